import t from 'tap';
import { buildCapability } from '../../grpc/capability.js';
import type { BackendInfo } from '../../src/index.js';

const limits = { maxUploadBytes: 1000, chunkIdleMs: 1000, maxConcurrency: 3, maxQueued: 16, maxFaces: 20 };
const info = (runtime: 'onnxrt' | 'rknn', providers: string[]) =>
  ({
    service: { name: 'lumen-face', version: '1.2.3' },
    runtime,
    device: 'cpu',
    providers,
    model: { name: 'buffalo_l', runtime, precision: 'fp16', dim: 512 },
    limits: { maxPixels: 5000 },
  }) as unknown as BackendInfo;

t.test("the runtime in Lumen's words", async (t) => {
  t.equal(buildCapability(info('onnxrt', ['cpu']), limits).runtime, 'onnxrt-cpu');
  t.equal(buildCapability(info('onnxrt', ['cuda', 'cpu']), limits).runtime, 'onnxrt-cuda');
  t.equal(buildCapability(info('rknn', ['rknn']), limits).runtime, 'rknn');
});

t.test("model, precision, concurrency, and each task's limits", async (t) => {
  const capability = buildCapability(info('onnxrt', ['cpu']), limits);
  t.same(capability.model_ids, ['buffalo_l']);
  t.same(capability.precisions, ['fp16']);
  t.equal(capability.max_concurrency, 3);
  t.equal(capability.extra.face_embedding_dim, '512');
  t.equal(capability.extra.server, 'lumen-face/1.2.3');
  t.same(capability.tasks[0].limits, { max_payload_bytes: '1000', max_pixels: '5000', max_faces: '20', max_concurrency: '3' });
});
