import { join } from 'node:path';
import t from 'tap';
import { openFaceModels } from '../../../src/pipeline/face-models.js';
import type { FaceModels } from '../../../src/pipeline/face-models.js';
import { embedCrops, l2Normalise } from '../../../src/pipeline/recognizer.js';
import { silentLogger } from '../../../src/types.js';
import { cosine, norm, requirePack } from '../../helpers/fixtures.js';
import { pseudoRandomBytes } from '../../helpers/random.js';

const pack = requirePack('scrfd_500m_mbf', 'fp32');
let engine: FaceModels;
t.before(async () => {
  engine = await openFaceModels(
    {
      runtime: 'onnxrt',
      detectionPath: join(pack, 'detection.onnx'),
      recognitionPath: join(pack, 'recognition.onnx'),
      device: 'cpu',
      intraOpThreads: 1,
      detSize: 640,
    },
    silentLogger,
  );
});
t.teardown(() => engine?.close());

const crop = (seed: number) => pseudoRandomBytes(112 * 112 * 3, seed);

t.test('batches give the same unit vectors, in order, as one crop at a time', async (t) => {
  const crops = [1, 2, 3, 4, 5].map(crop);
  const batched = await embedCrops(
    engine,
    crops.map((c) => c.slice()),
    2,
  );
  t.equal(batched.length, 5, 'one vector per crop, across three runs of at most 2');
  for (const [i, c] of crops.entries()) {
    const [alone] = await embedCrops(engine, [c.slice()], 1);
    t.equal(batched[i].length, engine.info.recognition.dim);
    t.ok(Math.abs(norm(batched[i]) - 1) < 1e-5, `crop ${i} is L2-normalised`);
    t.ok(cosine(batched[i], alone) > 0.99999, `crop ${i} keeps its place`);
  }
  t.ok(cosine(batched[0], batched[1]) < 0.999, 'different crops give different vectors');
});

t.test('a crop of the wrong size is refused by its index', async (t) => {
  await t.rejects(embedCrops(engine, [crop(1), new Uint8Array(10)], 4), { message: /^crop 1 has 10 bytes; the recognizer takes 112x112x3 = 37632/ });
});

t.test('L2 normalisation', async (t) => {
  t.same(Array.from(l2Normalise(Float32Array.of(3, 4))), [0.6000000238418579, 0.800000011920929]);
  t.same(Array.from(l2Normalise(new Float32Array(3))), [0, 0, 0], 'a zero vector stays zero rather than NaN');
});
