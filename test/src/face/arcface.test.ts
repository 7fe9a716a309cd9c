import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ort from 'onnxruntime-node';
import t from 'tap';
import { openFaceModels } from '../../../src/pipeline/face-models.js';
import { embeddingOutputIndex } from '../../../src/face/arcface.js';
import { silentLogger } from '../../../src/types.js';
import { cosine, requirePack } from '../../helpers/fixtures.js';
import { pseudoRandomBytes } from '../../helpers/random.js';
import { tempDir } from '../../helpers/temp.js';
import { withExtraOutputs } from '../../helpers/onnx-extend.js';

const pack = requirePack('scrfd_500m_mbf', 'fp32');
const detectionPath = join(pack, 'detection.onnx');
const recognitionPath = join(pack, 'recognition.onnx');

t.test('the embedding is the one output that holds one vector per image', async (t) => {
  t.equal(embeddingOutputIndex([{ name: 'only', dims: [null, 7, 7, 64] }]), 0, 'a single output is taken as it is');
  t.equal(
    embeddingOutputIndex([
      { name: 'norm', dims: [null, 1] },
      { name: 'emb', dims: [null, 512] },
    ]),
    1,
  );
  t.equal(
    embeddingOutputIndex([
      { name: 'emb', dims: [1, 128, 1, 1] },
      { name: 'map', dims: [1, 64, 7, 7] },
    ]),
    0,
  );
  t.equal(
    embeddingOutputIndex([
      { name: 'logits', dims: [null, 85742] },
      { name: 'emb', dims: [null, 512] },
    ]),
    1,
  );
  t.throws(
    () =>
      embeddingOutputIndex([
        { name: 'a', dims: [null, 512] },
        { name: 'b', dims: [null, 512] },
      ]),
    {
      message: /2 outputs that could be the embedding: expected exactly one output of shape \[N, D\], received "a" \[N, 512\], "b" \[N, 512\]/,
    },
  );
  t.throws(
    () =>
      embeddingOutputIndex([
        { name: 'a', dims: [null, 'D'] },
        { name: 'b', dims: [null, 1] },
      ]),
    {
      message: /no embedding output/,
    },
  );
});

t.test('ONNX: a recognizer with a second output embeds as the one-output model does', async (t) => {
  const dir = tempDir('two-outputs');
  const original = readFileSync(recognitionPath);
  const plain = await ort.InferenceSession.create(recognitionPath);
  const [embedding] = plain.outputNames;
  await plain.release();

  // The decoy comes last: the output an engine taking "the last output" would have used.
  const withNorm = join(dir, 'recognition-with-norm.onnx');
  writeFileSync(
    withNorm,
    withExtraOutputs(original, [
      { opType: 'ReduceSumSquare', inputs: [embedding], output: 'squared_norm', attributes: { axes: [1], keepdims: 1 }, dims: ['N', 1] },
    ]),
  );
  const check = await ort.InferenceSession.create(withNorm);
  t.same(check.outputNames, [embedding, 'squared_norm'], 'the built graph has two outputs, the decoy last');
  await check.release();

  const options = { runtime: 'onnxrt' as const, detectionPath, device: 'cpu', intraOpThreads: 1, detSize: 640 };
  const reference = await openFaceModels({ ...options, recognitionPath }, silentLogger);
  t.teardown(() => reference.close());
  const twoOutputs = await openFaceModels({ ...options, recognitionPath: withNorm }, silentLogger);
  t.teardown(() => twoOutputs.close());
  t.equal(twoOutputs.info.recognition.dim, reference.info.recognition.dim, 'the embedding dimension');

  const crop = pseudoRandomBytes(112 * 112 * 3, 7);
  const expected = await reference.embed(crop.slice(), 1);
  const actual = await twoOutputs.embed(crop.slice(), 1);
  t.equal(actual.length, expected.length);
  t.ok(cosine(actual, expected) > 0.999999, 'the same embedding');

  const twin = join(dir, 'recognition-with-copy.onnx');
  writeFileSync(twin, withExtraOutputs(original, [{ opType: 'Identity', inputs: [embedding], output: 'copy', dims: ['N', 128] }]));
  await t.rejects(openFaceModels({ ...options, recognitionPath: twin }, silentLogger), {
    code: 'MODEL_LOAD_FAILED',
    message: /2 outputs that could be the embedding/,
  });
});
