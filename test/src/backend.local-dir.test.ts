import t from 'tap';
import { createBackend } from '../../src/backend.js';
import type { LumenError } from '../../src/errors.js';
import { startServer, tmpDir } from '../helpers/models.js';

/**
 * LUMEN_FACE_LOCAL_DIR never touches the network: a local directory that lacks the pack is a "not found"
 * naming the local paths, with no download attempted, unless a remote source is also given explicitly.
 */

async function failure(env: Record<string, string>): Promise<LumenError> {
  try {
    const backend = await createBackend({ env });
    await backend.close();
  } catch (err) {
    return err as LumenError;
  }
  throw new Error('the backend loaded');
}

t.test('a local directory without the pack: not found, nothing downloaded', async (t) => {
  const local = await tmpDir(t);
  const err = await failure({ LUMEN_FACE_LOCAL_DIR: local, LUMEN_FACE_CACHE_DIR: await tmpDir(t), LUMEN_FACE_MODEL_NAME: 'scrfd_x', LUMEN_FACE_TIMEOUT: '2' });
  t.equal(err.code, 'MODEL_NOT_FOUND', err.message);
  t.match(err.message, `local: ${local}/scrfd_x/onnxrt/fp16/detection.onnx (not found)`);
  t.match(err.message, 'remote: not tried (LUMEN_FACE_LOCAL_DIR is set and no remote source is');
  t.notMatch(err.message, /could not be downloaded|huggingface/);
});

t.test('with LUMEN_FACE_REPO_BASE given too, what the directory lacks is downloaded from there', async (t) => {
  const srv = await startServer(t, (_req, res) => {
    res.statusCode = 404;
    res.end();
  });
  const err = await failure({
    LUMEN_FACE_LOCAL_DIR: await tmpDir(t),
    LUMEN_FACE_CACHE_DIR: await tmpDir(t),
    LUMEN_FACE_MODEL_NAME: 'scrfd_x',
    LUMEN_FACE_REPO_BASE: `${srv.origin}/mirror`,
  });
  t.equal(err.code, 'MODEL_NOT_FOUND', err.message);
  t.ok(srv.requests.length > 0, 'the mirror was asked');
  t.match(err.message, `remote: ${srv.origin}/mirror/`);
});
