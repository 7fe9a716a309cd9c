import { boxArea } from '../face/geometry.js';
import { shorterSide } from '../face/quality.js';
import { decodeScrfd, type Detection } from '../face/scrfd.js';
import type { FaceModels } from './face-models.js';
import { type DecodeLadder, type DetectorInput, detectorInput } from '../image/ladder.js';
import type { DetectOptions } from './options.js';
import { emptyTimings, type StageTimings } from './timings.js';

/**
 * Detections shorter than this in the detector's input are dropped: one stride-8 cell, half the smallest
 * SCRFD anchor (16 px). Photos are no longer enlarged into the detector, and at their own scale such specks
 * fire on texture (a 6x8 px "face" in a shared group photo); real faces of 10 px are kept.
 */
export const MIN_INPUT_SIDE = 8;

/** Whether the detector graph takes any input shape (a multiple of 32), so no square padding is needed. */
export const takesAnyShape = (engine: FaceModels) => engine.info.detection.dynamic;

/**
 * Detect on the photo held by the ladder, at its own scale when it fits the detector (never enlarged)
 * and its own shape where the graph allows; largest face first. Coordinates are in the upright image.
 */
export async function detectFaces(
  engine: FaceModels,
  ladder: DecodeLadder,
  detSize: number,
  options: DetectOptions,
  timings: StageTimings = emptyTimings(),
): Promise<Detection[]> {
  const input = await detectorInput(ladder, detSize, takesAnyShape(engine));
  return runDetector(engine, input, ladder.width, ladder.height, options, timings);
}

/** Run the detector on a prepared input and read its faces, in pixels of an imageWidth x imageHeight image. */
export async function runDetector(
  engine: FaceModels,
  input: DetectorInput,
  imageWidth: number,
  imageHeight: number,
  options: DetectOptions,
  timings: StageTimings,
): Promise<Detection[]> {
  const { width: inputWidth, height: inputHeight } = input.image;
  const start = performance.now();
  const outputs = await engine.detect(input.image);
  const detections = decodeScrfd(outputs, {
    inputWidth,
    inputHeight,
    scale: input.scale,
    imageWidth,
    imageHeight,
    minScore: options.min_score,
    nmsIou: options.nms,
  });
  timings.detect += performance.now() - start;
  const kept = detections
    .filter((d) => shorterSide(d.box) >= options.min_size && shorterSide(d.box) * input.scale >= MIN_INPUT_SIDE)
    .sort((a, b) => boxArea(b.box) - boxArea(a.box));
  return options.max_faces === undefined ? kept : kept.slice(0, options.max_faces);
}
