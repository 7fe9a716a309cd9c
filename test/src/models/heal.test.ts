import { copyFile, readFile, stat, utimes } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { createBackend } from '../../../src/backend.js';
import { writeSidecar } from '../../../src/models/cache.js';
import { resolvePack } from '../../../src/models/index.js';
import { MODELS_DIR, TEST_ENGINE } from '../../helpers/fixtures.js';
import { captureLogger, fakeModel, listFiles, put, request, serve, sha256, startServer, tmpDir } from '../../helpers/models.js';

/** The cache heals itself: a cached file that does not load is fetched again once; stale .part files go. */

const PACK = join(MODELS_DIR, 'scrfd_500m_mbf', 'onnxrt', 'fp32');
const DET_URL = '/p/scrfd_x/onnxrt/fp32/detection.onnx';
const REC_URL = '/p/scrfd_x/onnxrt/fp32/recognition.onnx';

async function realFiles() {
  return { det: await readFile(join(PACK, 'detection.onnx')), rec: await readFile(join(PACK, 'recognition.onnx')) };
}

const env = (cacheDir: string, origin: string) => ({
  ...TEST_ENGINE,
  LUMEN_FACE_WORKERS: '1',
  LUMEN_FACE_CACHE_DIR: cacheDir,
  LUMEN_FACE_REPO_BASE: `${origin}/p`,
  LUMEN_FACE_MODEL_NAME: 'scrfd_x',
  LUMEN_FACE_PRECISION: 'fp32',
});

t.test('a cached file that does not load is moved aside and fetched again, once', async (t) => {
  const { det, rec } = await realFiles();
  const srv = await startServer(t, (req, res) => (req.url === DET_URL ? serve(res, det) : req.url === REC_URL ? serve(res, rec) : res.writeHead(404).end()));
  const cacheDir = await tmpDir(t);
  const target = join(cacheDir, 'scrfd_x/onnxrt/fp32/detection.onnx');
  // What a misbehaving mirror left: a wrong body, stored with a sidecar that matches it.
  const wrong = fakeModel(5000);
  await put(target, wrong);
  await writeSidecar(target, { size: wrong.length, sha256: sha256(wrong), url: srv.origin + DET_URL, downloadedAt: new Date().toISOString() });

  const { log, lines } = captureLogger();
  const backend = await createBackend({ env: env(cacheDir, srv.origin), log });
  t.teardown(() => backend.close());
  const info = backend.info();
  t.match(info.files.detection, { source: 'remote', sha256: sha256(det), path: target });
  t.ok((await readFile(target)).equals(det), 'the good file is in place');
  t.ok((await readFile(`${target}.bad`)).equals(wrong), 'the bad one was moved aside');
  const healed = lines.filter((l) => l.msg === 'a cached model file failed to load: moved it aside, fetching it again');
  t.equal(healed.length, 1);
  t.match(healed[0], { level: 'warn', obj: { role: 'detection', path: target, movedTo: `${target}.bad` } });
  t.equal(srv.count(DET_URL), 1, 'fetched again once');
  const [face] = await backend.embed(await readFile(join(MODELS_DIR, '..', 'faces', 'groups', 't1.jpg')));
  t.equal(face.length, 128);
});

t.test('a mirror that keeps serving a broken file is asked once more, then the start fails', async (t) => {
  const { rec } = await realFiles();
  const broken = fakeModel(5000);
  const srv = await startServer(t, (req, res) => (req.url === DET_URL ? serve(res, broken) : req.url === REC_URL ? serve(res, rec) : res.writeHead(404).end()));
  const cacheDir = await tmpDir(t);
  const err = await createBackend({ env: env(cacheDir, srv.origin) }).then(
    () => undefined,
    (e: Error) => e,
  );
  t.match(err, { code: 'MODEL_LOAD_FAILED' });
  t.equal(srv.count(DET_URL), 2, 'the first download and one retry, no loop');
});

t.test('a stale .part file is removed even when nothing is downloaded', async (t) => {
  const cacheDir = await tmpDir(t);
  const dir = join(cacheDir, 'scrfd_x/onnxrt/fp32');
  for (const file of ['detection.onnx', 'recognition.onnx']) {
    await put(join(dir, file), Buffer.alloc(0));
    await copyFile(join(PACK, file), join(dir, file));
    const body = await readFile(join(dir, file));
    await writeSidecar(join(dir, file), { size: body.length, sha256: sha256(body), url: 'http://mirror/x', downloadedAt: new Date().toISOString() });
  }
  const killed = join(dir, 'detection.onnx.4242.deadbeef.part');
  await put(killed, Buffer.alloc(100));
  const old = new Date(Date.now() - 60 * 60_000);
  await utimes(killed, old, old);
  const fresh = join(dir, 'recognition.onnx.4243.cafebabe.part'); // maybe a live download elsewhere: kept

  await put(fresh, Buffer.alloc(10));
  const { log, lines } = captureLogger();
  const pack = await resolvePack(request({ cacheDir, repoBase: 'http://127.0.0.1:9/p', offline: true }), log);
  t.equal(pack.detection.source, 'cache');
  await t.rejects(stat(killed), { code: 'ENOENT' }, 'the killed download is gone');
  t.ok((await stat(fresh)).isFile(), 'a recent one is kept');
  t.ok(lines.some((l) => l.msg === 'removed leftover partial download' && l.obj.path === killed));
  t.same(
    (await listFiles(cacheDir)).filter((f) => f.endsWith('.part')),
    ['scrfd_x/onnxrt/fp32/recognition.onnx.4243.cafebabe.part'],
  );
});
