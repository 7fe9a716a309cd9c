import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { cropFaces } from '../src/pipeline/crops.js';
import { DecodeLadder, detectorInput } from '../src/image/ladder.js';
import { ARCFACE_NORM } from '../src/face/arcface.js';
import { l2Normalise } from '../src/pipeline/recognizer.js';
import { measureQualities } from '../src/pipeline/quality.js';
import { decodeScrfd, SCRFD_NORM } from '../src/face/scrfd.js';
import { SourceImage } from '../src/image/source.js';
import { rgbToNchw } from '../src/face/tensor-layout.js';
import type { Tensor } from '../src/types.js';
import type { PhotoSet } from './photo-sets.js';

/**
 * CPU time per stage per image (user + system, all threads of this process), running the pipeline's
 * own steps one after another on an idle machine (detection on the photo's own shape, as the shared
 * graphs allow). Model runs use one intra-op thread, so their CPU
 * time is their work, not spinning. The stages follow the order of the work in /v1/faces.
 */

/** A finer decode for the crops, when a face needs one, and their alignment are one step (src/image/ladder.ts, src/pipeline/crops.ts). */
export const STAGES = [
  'open header',
  'decode+letterbox',
  'normalise det',
  'detect model',
  'scrfd decode',
  'decode+align crops',
  'normalise rec',
  'embed model',
  'quality',
  'serialise',
] as const;
export type Stage = (typeof STAGES)[number];

const LIMITS = { maxPixels: 200_000_000 };
const CROP = { width: 112, height: 112 };

export async function stageBreakdown(detectionPath: string, recognitionPath: string, set: PhotoSet, size: number): Promise<Record<Stage, number>> {
  const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, interOpNumThreads: 1, logSeverityLevel: 3 };
  const detection = await ort.InferenceSession.create(detectionPath, options);
  const recognition = await ort.InferenceSession.create(recognitionPath, options);
  const totals = Object.fromEntries(STAGES.map((s) => [s, 0])) as Record<Stage, number>;
  // As in the photo workers: libvips on one thread, so a stage's CPU time is its own work.
  const concurrency = sharp.concurrency();
  sharp.concurrency(1);
  const cpu = async <T>(stage: Stage, work: () => T | Promise<T>): Promise<T> => {
    const before = process.cpuUsage();
    const result = await work();
    const used = process.cpuUsage(before);
    totals[stage] += (used.user + used.system) / 1000;
    return result;
  };
  for (const photo of set.photos) {
    const source = await cpu('open header', () => SourceImage.open(photo.bytes, LIMITS));
    const ladder = new DecodeLadder(source);
    const { image, scale } = await cpu('decode+letterbox', () => detectorInput(ladder, size, true));
    const detInput = await cpu('normalise det', () => rgbToNchw(image.data, 1, image.width, image.height, SCRFD_NORM.mean, SCRFD_NORM.std));
    const dims = [1, 3, image.height, image.width];
    const results = await cpu('detect model', () => detection.run({ [detection.inputNames[0]]: new ort.Tensor('float32', detInput, dims) }));
    const detections = await cpu('scrfd decode', () =>
      decodeScrfd(
        detection.outputNames.map((n): Tensor => ({ data: results[n].data as Float32Array, dims: [...results[n].dims] })),
        { inputWidth: image.width, inputHeight: image.height, scale, imageWidth: source.width, imageHeight: source.height, minScore: 0.5, nmsIou: 0.4 },
      ),
    );
    if (detections.length === 0) continue;
    const crops = await cpu('decode+align crops', async () => {
      const requests = detections.map((d) => (d.landmarks ? { landmarks: d.landmarks } : { box: d.box }));
      const cut = await cropFaces(requests, ladder, CROP);
      ladder.release();
      return cut;
    });
    const embeddings: Float32Array[] = [];
    for (const crop of crops) {
      const recInput = await cpu('normalise rec', () => rgbToNchw(crop, 1, 112, 112, ARCFACE_NORM.mean, ARCFACE_NORM.std));
      const out = await cpu('embed model', () => recognition.run({ [recognition.inputNames[0]]: new ort.Tensor('float32', recInput, [1, 3, 112, 112]) }));
      embeddings.push(l2Normalise(out[recognition.outputNames[0]].data as Float32Array));
    }
    await cpu('quality', () => measureQualities(detections, crops, CROP));
    // The same JSON the route sends: 9 significant digits per float32.
    await cpu('serialise', () =>
      JSON.stringify({
        faces: detections.map((d, i) => ({
          box: d.box,
          score: d.score,
          landmarks: d.landmarks,
          embedding: Array.from(embeddings[i], (x) => Number(x.toPrecision(9))),
        })),
      }),
    );
  }
  sharp.concurrency(concurrency);
  await detection.release();
  await recognition.release();
  const n = set.photos.length;
  return Object.fromEntries(STAGES.map((s) => [s, totals[s] / n])) as Record<Stage, number>;
}
