import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import t from 'tap';
import { providersFor } from '../../src/engines/onnxrt/engine.js';
import { createBackend } from '../../src/index.js';
import { backendFor, cosine, MODELS_DIR, readFace } from '../helpers/fixtures.js';

t.test('providers follow LUMEN_FACE_DEVICE', async (t) => {
  t.same(providersFor('cpu'), ['cpu']);
  t.same(providersFor('cuda'), [{ name: 'cuda', deviceId: 0 }, 'cpu']);
  t.same(providersFor('cuda:3'), [{ name: 'cuda', deviceId: 3 }, 'cpu']);
});

t.test('cuda without a loadable CUDA provider: a loud error in the log, and the service runs on CPU', async (t) => {
  const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const cudaInstalled = existsSync(join(ortDir, 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'));
  const errors: { obj: Record<string, unknown>; msg?: string }[] = [];
  const log = { debug() {}, info() {}, warn() {}, error: (obj: object, msg?: string) => void errors.push({ obj: obj as Record<string, unknown>, msg }) };
  const backend = await createBackend({
    env: { LUMEN_FACE_LOCAL_DIR: MODELS_DIR, LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf', LUMEN_FACE_PRECISION: 'fp32', LUMEN_FACE_OFFLINE: '1', LUMEN_FACE_DEVICE: 'cuda:0' },
    log,
  });
  t.teardown(() => backend.close());
  const info = backend.info();
  t.equal(info.device, 'cuda:0');
  if (cudaInstalled) {
    t.same(info.providers, ['cuda', 'cpu'], 'the CUDA build is installed: CUDA is used');
    return;
  }
  t.same(info.providers, ['cpu'], '/v1/info shows the providers actually in use');
  t.match(String(info.engine.providerFallback), /cuda, cpu could not be used/);
  t.ok(errors.some((e) => /RUNNING ON CPU/.test(e.msg ?? '')), 'said loudly in the log');

  const cpu = await backendFor('scrfd_500m_mbf', 'fp32');
  t.teardown(() => cpu.close());
  const photo = readFace('identities/Angelina_Jolie/01.jpg');
  const [a] = await backend.embed(photo);
  const [b] = await cpu.embed(photo);
  t.ok(cosine(a, b) > 0.9999, 'the fallback computes the same embeddings as a CPU backend');
});
