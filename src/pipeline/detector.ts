import { boxArea } from '../face/geometry.js';
import { shorterSide } from '../face/quality.js';
import { decodeScrfd, type Detection } from '../face/scrfd.js';
import type { InferenceEngine } from '../engines/engine.js';
import { letterbox } from '../image/letterbox.js';
import type { SourceImage } from '../image/source.js';
import type { DetectOptions } from './options.js';
import { emptyTimings, timed, type StageTimings } from './timings.js';

/** Letterbox, run the detector, decode; largest face first. Coordinates are in the upright image. */
export async function detectFaces(
  engine: InferenceEngine,
  source: SourceImage,
  detSize: number,
  options: DetectOptions,
  timings: StageTimings = emptyTimings(),
  letterboxOptions: { upscale?: boolean } = {},
): Promise<Detection[]> {
  const { image, scale } = await timed(timings, 'decode', () => letterbox(source, detSize, letterboxOptions));
  const start = performance.now();
  const outputs = await engine.detect(image);
  const detections = decodeScrfd(outputs, {
    inputWidth: detSize,
    inputHeight: detSize,
    scale,
    imageWidth: source.width,
    imageHeight: source.height,
    minScore: options.min_score,
    nmsIou: options.nms,
  });
  timings.detect += performance.now() - start;
  const kept = detections.filter((d) => shorterSide(d.box) >= options.min_size).sort((a, b) => boxArea(b.box) - boxArea(a.box));
  return options.max_faces === undefined ? kept : kept.slice(0, options.max_faces);
}
