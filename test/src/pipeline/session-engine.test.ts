import { join } from 'node:path';
import t from 'tap';
import type { TensorSession } from '../../../src/engines/engine.js';
import { openOnnxSession } from '../../../src/engines/onnxrt/session.js';
import { sessionEngine } from '../../../src/pipeline/session-engine.js';
import { cosine, requirePack } from '../../helpers/fixtures.js';

/** ONNX Runtime as a plain tensor session, and the engine the pipeline builds from two of them. */

const pack = requirePack('scrfd_500m_mbf', 'fp32');
const options = { providers: ['cpu'], intraOpThreads: 1 };

t.test('a session declares its tensors and runs feeds to every output, in declared order', async (t) => {
  const detection = await openOnnxSession(join(pack, 'detection.onnx'), options);
  t.teardown(() => detection.release());
  t.same(detection.providers, ['cpu']);
  t.equal(detection.inputs.length, 1);
  t.same(detection.inputs[0].dims.slice(0, 2), [1, 3], 'NCHW input, batch 1');
  t.equal(detection.outputs.length, 9, 'SCRFD with keypoints: scores, boxes and keypoints at three strides');
  const outputs = await detection.run({ [detection.inputs[0].name]: { data: new Float32Array(3 * 320 * 320), dims: [1, 3, 320, 320] } });
  t.equal(outputs.length, 9);
  t.same(outputs.map((o) => o.dims[1]), [1, 1, 1, 4, 4, 4, 10, 10, 10], 'score, box and keypoint widths in the order the graph declares them');
  t.same(outputs.slice(0, 3).map((o) => o.dims[0]), [3200, 800, 200], 'two anchors per cell at strides 8, 16 and 32 of 320x320');
});

/** A session that records what it is fed, around a real recognizer, to see the engine's batching. */
function recording(session: TensorSession, fixedBatch: number | null) {
  const fed: number[][] = [];
  const wrapped: TensorSession = {
    inputs: fixedBatch === null ? session.inputs : session.inputs.map((i) => ({ ...i, dims: [fixedBatch, ...i.dims.slice(1)] })),
    outputs: session.outputs,
    run: (feeds) => {
      fed.push(...Object.values(feeds).map((f) => [...f.dims]));
      return session.run(feeds);
    },
    release: () => session.release(),
  };
  return { wrapped, fed };
}

t.test('the engine pads a fixed batch and drops the padding; a dynamic batch runs as given', async (t) => {
  const detection = await openOnnxSession(join(pack, 'detection.onnx'), options);
  const recognition = await openOnnxSession(join(pack, 'recognition.onnx'), options);
  t.teardown(async () => {
    await detection.release();
    await recognition.release();
  });
  const setup = { runtime: 'onnxrt' as const, device: 'cpu', providers: ['cpu'], detSize: 320, details: {} };
  const dynamic = recording(recognition, null);
  const fixed = recording(recognition, 4);
  const a = await sessionEngine(detection, dynamic.wrapped, setup);
  const b = await sessionEngine(detection, fixed.wrapped, setup);
  t.equal(a.info.recognition.batch, 'dynamic');
  t.equal(b.info.recognition.batch, 4);
  t.equal(a.info.recognition.dim, 128, 'the warm-up run found the embedding size');
  let x = 3;
  const crops = Uint8Array.from({ length: 3 * 112 * 112 * 3 }, () => (x = (x * 1103515245 + 12345) >>> 0) >>> 24);
  dynamic.fed.length = 0;
  fixed.fed.length = 0;
  const fromDynamic = await a.embed(crops.slice(), 3);
  const fromFixed = await b.embed(crops.slice(), 3);
  t.same(dynamic.fed, [[3, 3, 112, 112]]);
  t.same(fixed.fed, [[4, 3, 112, 112]], 'three crops and one row of padding');
  t.equal(fromFixed.length, 3 * 128, 'the padding row is dropped');
  for (let i = 0; i < 3; i++) {
    t.ok(cosine(fromFixed.subarray(i * 128, (i + 1) * 128), fromDynamic.subarray(i * 128, (i + 1) * 128)) > 0.99999, `crop ${i} is the same either way`);
  }
});
