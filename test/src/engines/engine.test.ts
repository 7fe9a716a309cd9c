import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import type { Feed, TensorSession } from '../../../src/engines/engine.js';
import { openOnnxSession } from '../../../src/engines/onnxrt/session.js';
import { openRknnRuntime } from '../../../src/engines/rknn/session.js';
import { ArcFace } from '../../../src/face/arcface.js';
import { groupScrfdOutputs, Scrfd } from '../../../src/face/scrfd.js';
import { imageShape } from '../../../src/face/tensor-layout.js';
import { silentLogger } from '../../../src/types.js';
import { buildFakeRknn, writeFakeRknnPack } from '../../fake-rknn/build.js';
import { cosine, requirePack } from '../../helpers/fixtures.js';
import { pseudoRandomBytes } from '../../helpers/random.js';

/**
 * Both runtimes as the same plain tensor session (metadata and run(feeds)), and the face families
 * over either: ONNX Runtime with the shared real graphs, RKNN through the real addon and the fake
 * librknnrt.so.
 */

const pack = requirePack('scrfd_2.5g_mbf', 'fp32');
const onnxOptions = { providers: ['cpu'], intraOpThreads: 1 };

interface Pair {
  detection: TensorSession;
  recognition: TensorSession;
}

const runtimes: Record<string, (t: { teardown(fn: () => unknown): void }) => Promise<Pair>> = {
  onnxrt: async (t) => {
    const detection = await openOnnxSession(join(pack, 'detection.onnx'), onnxOptions);
    const recognition = await openOnnxSession(join(pack, 'recognition.onnx'), onnxOptions);
    t.teardown(async () => {
      await detection.release().catch(() => undefined);
      await recognition.release().catch(() => undefined);
    });
    return { detection, recognition };
  },
  rknn: async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'lumen-sessions-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const paths = writeFakeRknnPack(dir, { detection: { faces: 2 }, recognition: { dim: 128 } });
    const runtime = await openRknnRuntime({ libraryPath: buildFakeRknn(), contexts: 1, perfDebug: false, compatiblePath: join(dir, 'no-board') }, silentLogger);
    const detection = runtime.open(paths.detection, 'detection');
    const recognition = runtime.open(paths.recognition, 'recognition');
    t.teardown(async () => {
      await detection.release().catch(() => undefined);
      await recognition.release().catch(() => undefined);
    });
    return { detection, recognition };
  },
};

/** A feed of zeros for an image input, as it declares it, at a side for its dynamic dimensions. */
function zeros(session: TensorSession, side: number): Record<string, Feed> {
  const input = session.inputs[0];
  const dims = input.dims.map((d, i) => d ?? (i === 0 ? 1 : side));
  const size = dims.reduce((a, b) => a * b, 1);
  return { [input.name]: { data: input.type === 'uint8' ? new Uint8Array(size) : new Float32Array(size), dims } };
}

const product = (dims: readonly number[]) => dims.reduce((a, b) => a * b, 1);

for (const [name, open] of Object.entries(runtimes)) {
  t.test(`${name}: a session declares one image input and runs feeds to every output, in declared order`, async (t) => {
    const { detection, recognition } = await open(t);
    for (const session of [detection, recognition]) {
      t.equal(session.inputs.length, 1, 'one input');
      const shape = imageShape(session.inputs[0]);
      t.equal(shape.channels, 3, 'three channels, where its layout puts them');
      t.ok(['float32', 'uint8'].includes(session.inputs[0].type ?? ''), 'it says whether it takes normalised floats or bytes');
      t.ok(session.outputs.length >= 1 && session.outputs.every((o) => o.name.length > 0), 'named outputs');
      t.type(session.details, 'object');
    }
    t.equal(detection.outputs.length, 9, 'SCRFD with keypoints: scores, boxes and keypoints at three strides');
    const outputs = await detection.run(zeros(detection, 640));
    t.equal(outputs.length, detection.outputs.length, 'every output');
    const widths = outputs.map((o) => o.dims[o.dims.length - 1]);
    t.same([...widths].sort(), [1, 1, 1, 10, 10, 10, 4, 4, 4].sort(), 'score, box and keypoint widths');
    for (const [i, o] of outputs.entries()) t.equal(o.data.length, product(o.dims), `output ${i}: its data fills its dims`);
    const declared = detection.outputs.map((o) => o.dims[o.dims.length - 1]);
    t.same(widths, declared, 'in the order the graph declares them');
  });

  t.test(`${name}: a feed of the wrong size is refused, and a released session runs no more`, async (t) => {
    const { detection, recognition } = await open(t);
    const input = recognition.inputs[0];
    await t.rejects(recognition.run({ [input.name]: { data: new Float32Array(5), dims: [1, 5] } }), 'a wrong feed rejects');
    const ok = await recognition.run(zeros(recognition, 112));
    t.ok(ok.length >= 1, 'and the session still runs');
    await detection.release();
    await t.rejects(detection.run(zeros(detection, 640)), 'a released session rejects');
  });

  t.test(`${name}: the SCRFD and ArcFace families drive the session`, async (t) => {
    const { detection, recognition } = await open(t);
    const scrfd = await Scrfd.open(detection, 640);
    t.equal(scrfd.size, 640);
    t.equal(scrfd.dynamic, name === 'onnxrt', 'the shared ONNX graph takes any multiple of 32; the RKNN one its square');
    t.equal(scrfd.outputCount, 9);
    await t.rejects(scrfd.detect({ data: new Uint8Array(100 * 100 * 3), width: 100, height: 100 }), 'a side that fits neither is refused');
    const wide = { data: new Uint8Array(640 * 480 * 3), width: 640, height: 480 };
    if (scrfd.dynamic) {
      const outputs = await scrfd.detect(wide);
      t.same(
        groupScrfdOutputs(outputs, 640, 480).map((l) => l.score.data.length),
        [2 * 80 * 60, 2 * 40 * 30, 2 * 20 * 15],
        'a 640x480 input runs at its own shape',
      );
    } else {
      await t.rejects(scrfd.detect(wide), /takes 640x640/, 'a fixed graph takes its square only');
    }
    const arcface = await ArcFace.open(recognition);
    t.equal(arcface.dim, 128, 'the warm-up found the embedding size');
    t.same([arcface.width, arcface.height], [112, 112]);
    const crops = pseudoRandomBytes(2 * 112 * 112 * 3, 3);
    const both = await arcface.embed(crops, 2);
    const second = await arcface.embed(crops.subarray(112 * 112 * 3), 1);
    t.equal(both.length, 2 * 128);
    t.ok(cosine(both.subarray(128), second) > 0.99999, 'the second crop embeds alike alone or in a run of two');
  });
}

/** A session that records what it is fed, around a real recognizer, to see the family's batching. */
function recording(session: TensorSession, fixedBatch: number | null) {
  const fed: number[][] = [];
  const wrapped: TensorSession = {
    inputs: fixedBatch === null ? session.inputs : session.inputs.map((i) => ({ ...i, dims: [fixedBatch, ...i.dims.slice(1)] })),
    outputs: session.outputs,
    details: session.details,
    run: (feeds) => {
      fed.push(...Object.values(feeds).map((f) => [...f.dims]));
      return session.run(feeds);
    },
    release: () => session.release(),
  };
  return { wrapped, fed };
}

t.test('ArcFace pads a fixed batch and drops the padding; a dynamic batch runs as given', async (t) => {
  const recognition = await openOnnxSession(join(pack, 'recognition.onnx'), onnxOptions);
  t.teardown(() => recognition.release());
  const dynamic = recording(recognition, null);
  const fixed = recording(recognition, 4);
  const a = await ArcFace.open(dynamic.wrapped);
  const b = await ArcFace.open(fixed.wrapped);
  t.equal(a.batch, 'dynamic');
  t.equal(b.batch, 4);
  const crops = pseudoRandomBytes(3 * 112 * 112 * 3, 3);
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
