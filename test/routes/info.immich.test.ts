import t from 'tap';
import { createBackend } from '../../src/backend.js';
import { testApp, testEnv } from '../helpers/app.js';
import { immichBuffaloDir, tmpDir } from '../helpers/models.js';

/** /v1/info reports what the files are: an immich pack is fp32 ONNX whatever LUMEN_FACE_PRECISION says. */

t.test('an immich pack reports fp32, and the configured limits and threshold', async (t) => {
  const dir = await immichBuffaloDir(t);
  const env = testEnv({
    LUMEN_FACE_LOCAL_DIR: dir,
    LUMEN_FACE_MODEL_NAME: 'buffalo_l',
    LUMEN_FACE_PACK_LAYOUT: 'immich',
    LUMEN_FACE_PRECISION: 'fp16',
    LUMEN_FACE_MAX_IMAGES: '5',
    LUMEN_FACE_MAX_INFLIGHT: '3',
    LUMEN_FACE_MATCH_THRESHOLD: '0.5',
    LUMEN_FACE_WORKERS: '1',
    LUMEN_FACE_CACHE_DIR: await tmpDir(t),
  });
  const backend = await createBackend({ env });
  t.teardown(() => backend.close());
  const app = await testApp(t, { backend, env });
  const res = await app.inject('/v1/info');
  t.equal(res.statusCode, 200, res.body);
  const info = res.json();
  t.equal(info.pack.layout, 'immich');
  t.equal(info.model.precision, 'fp32', "the files' precision, not LUMEN_FACE_PRECISION");
  t.equal(info.limits.maxImages, 5);
  t.equal(info.limits.maxInflight, 3);
  t.same(info.verify, { threshold: 0.5 });
});
