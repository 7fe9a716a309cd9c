import t from 'tap';
import { createBackend } from '../../src/backend.js';
import { testApp, testEnv } from '../helpers/app.js';
import { immichBuffaloDir, tmpDir } from '../helpers/models.js';

/** lumen_face_model_info names the layout the pack was read in, the one /v1/info reports. */

t.test('an immich pack is labelled layout="immich"', async (t) => {
  const dir = await immichBuffaloDir(t);
  const env = testEnv({
    LUMEN_FACE_LOCAL_DIR: dir,
    LUMEN_FACE_MODEL_NAME: 'buffalo_l',
    LUMEN_FACE_PACK_LAYOUT: 'immich',
    LUMEN_FACE_WORKERS: '1',
    LUMEN_FACE_MATCH_THRESHOLD: '0.5',
    LUMEN_FACE_CACHE_DIR: await tmpDir(t),
  });
  const backend = await createBackend({ env });
  t.teardown(() => backend.close());
  const app = await testApp(t, { backend, env });
  t.equal((await app.inject('/v1/info')).json().pack.layout, 'immich');
  const metrics = await app.inject('/metrics');
  t.equal(metrics.statusCode, 200, metrics.body);
  const line = metrics.body.split('\n').find((l) => l.startsWith('lumen_face_model_info{'));
  t.match(line ?? '', /layout="immich"/, `the model info line: ${line}`);
});
