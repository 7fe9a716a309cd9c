import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { providersFor } from '../../../../src/engines/onnxrt/session.js';
import { backendFor, cosine, FACES_DIR, MODELS_DIR, readFace } from '../../../helpers/fixtures.js';

t.test('providers follow LUMEN_FACE_DEVICE', async (t) => {
  t.same(providersFor('cpu'), ['cpu']);
  t.same(providersFor('cuda'), [{ name: 'cuda', deviceId: 0 }, 'cpu']);
  t.same(providersFor('cuda:3'), [{ name: 'cuda', deviceId: 3 }, 'cpu']);
});

t.test('cuda without a loadable CUDA provider: a loud error in the log, and the service runs on CPU', async (t) => {
  const ortDir = dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json'));
  const cudaInstalled = existsSync(join(ortDir, 'bin', 'napi-v6', 'linux', 'x64', 'libonnxruntime_providers_cuda.so'));
  // ONNX Runtime itself prints "Failed to load library libonnxruntime_providers_shared.so" to stderr
  // when it tries CUDA here. That line is expected, so the backend runs in a child whose stderr is captured.
  const photo = join(FACES_DIR, 'identities/Angelina_Jolie/01.jpg');
  const child = spawnSync(process.execPath, [fileURLToPath(new URL('./fixtures/cuda-fallback-child.js', import.meta.url)), MODELS_DIR, photo], {
    encoding: 'utf8',
  });
  t.equal(child.status, 0, 'the child ran', { stderr: child.stderr });
  const result = JSON.parse(child.stdout) as {
    device: string;
    providers: string[];
    engine: Record<string, unknown>;
    errors: { msg?: string }[];
    embedding: number[];
  };
  t.equal(result.device, 'cuda:0');
  if (cudaInstalled) {
    t.same(result.providers, ['cuda', 'cpu'], 'the CUDA build is installed: CUDA is used');
    return;
  }
  t.same(result.providers, ['cpu'], '/v1/info shows the providers actually in use');
  t.match(String(result.engine.providerFallback), /cuda, cpu could not be used/);
  t.ok(
    result.errors.some((e) => /RUNNING ON CPU/.test(e.msg ?? '')),
    'said loudly in the log',
  );
  t.match(child.stderr, /libonnxruntime_providers/, "ONNX Runtime's own line is what the child's stderr caught");

  const cpu = await backendFor('scrfd_500m_mbf', 'fp32');
  t.teardown(() => cpu.close());
  const [b] = await cpu.embed(readFace('identities/Angelina_Jolie/01.jpg'));
  t.ok(cosine(result.embedding, b) > 0.9999, 'the fallback computes the same embeddings as a CPU backend');
});
