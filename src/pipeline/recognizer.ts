import type { FaceModels } from './face-models.js';

/** Embed crops in batches the model accepts; each result is L2-normalised. */
export async function embedCrops(engine: FaceModels, crops: Uint8Array[], maxBatchSize: number): Promise<Float32Array[]> {
  const { batch, dim, width, height } = engine.info.recognition;
  const cropBytes = width * height * 3;
  const wrong = crops.findIndex((c) => c.length !== cropBytes);
  if (wrong >= 0) throw new Error(`crop ${wrong} has ${crops[wrong].length} bytes; the recognizer takes ${width}x${height}x3 = ${cropBytes}`);
  const batchSize = batch === 'dynamic' ? maxBatchSize : Math.min(batch, maxBatchSize);
  const runs: Promise<Float32Array>[] = [];
  for (let start = 0; start < crops.length; start += batchSize) {
    const chunk = crops.slice(start, start + batchSize);
    const packed = new Uint8Array(chunk.reduce((n, c) => n + c.length, 0));
    let offset = 0;
    for (const c of chunk) {
      packed.set(c, offset);
      offset += c.length;
    }
    runs.push(engine.embed(packed, chunk.length));
  }
  const results = await Promise.all(runs);
  return results.flatMap((raw) => {
    const count = raw.length / dim;
    return Array.from({ length: count }, (_, i) => l2Normalise(raw.subarray(i * dim, (i + 1) * dim)));
  });
}

export function l2Normalise(vector: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < vector.length; i++) sum += vector[i] * vector[i];
  const norm = Math.sqrt(sum);
  const out = new Float32Array(vector.length);
  if (norm === 0 || !Number.isFinite(norm)) return out;
  for (let i = 0; i < vector.length; i++) out[i] = vector[i] / norm;
  return out;
}
