import type { InferenceEngine } from '../engines/engine.js';
import { iou } from '../face/geometry.js';
import type { Detection } from '../face/scrfd.js';
import type { ImageLimits } from '../image/limits.js';
import { SourceImage } from '../image/source.js';
import type { Box, Landmarks, RgbImage } from '../types.js';
import type { FaceRegion } from './boxes.js';
import { detectFaces } from './detector.js';
import { parseDetectOptions } from './options.js';
import type { StageTimings } from './timings.js';

export interface BoxDetector {
  engine: InferenceEngine;
  detSize: number;
  limits: ImageLimits;
}

/**
 * Landmarks for each caller box: the sent ones, else the best match among the faces detected in
 * the whole image, else a detection on a margin around the box (small faces a whole-image pass misses).
 */
export async function landmarksForBoxes(
  detector: BoxDetector,
  source: SourceImage,
  image: RgbImage,
  regions: FaceRegion[],
  timings: StageTimings,
): Promise<(Landmarks | null)[]> {
  const needed = regions.some((r) => !r.landmarks);
  const whole = needed ? await detectFaces(detector.engine, source, detector.detSize, parseDetectOptions({}), timings) : [];
  return Promise.all(
    regions.map(async (r) => {
      if (r.landmarks) return r.landmarks;
      const [x1, y1, x2, y2] = r.box;
      const isWholeImage = x1 === 0 && y1 === 0 && x2 === image.width && y2 === image.height;
      // For the whole image, the whole-image pass is the margin pass: take its best face whatever the overlap.
      const match = bestMatch(whole, r.box, 0, 0, isWholeImage ? 0 : MIN_MATCH_IOU);
      return match ?? (isWholeImage ? null : landmarksAround(detector, image, r.box, timings));
    }),
  );
}

/** Run the detector on a margin around the box, at native resolution (upscaling blurs small faces). */
async function landmarksAround(detector: BoxDetector, image: RgbImage, box: Box, timings: StageTimings): Promise<Landmarks | null> {
  const side = 2 * Math.max(box[2] - box[0], box[3] - box[1]);
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  const left = Math.max(0, Math.floor(cx - side / 2));
  const top = Math.max(0, Math.floor(cy - side / 2));
  const right = Math.min(image.width, Math.ceil(cx + side / 2));
  const bottom = Math.min(image.height, Math.ceil(cy + side / 2));
  const region = cropRaw(image, left, top, right - left, bottom - top);
  const source = await SourceImage.open(region, detector.limits);
  const found = await detectFaces(detector.engine, source, detector.detSize, parseDetectOptions({}), timings, { upscale: false });
  return bestMatch(found, box, left, top, 0);
}

/** A whole-image detection must overlap the caller's box this much to stand for it. */
const MIN_MATCH_IOU = 0.3;

/**
 * Landmarks of the detection (offset by left, top) whose centre lies in the box and that overlaps it most.
 */
function bestMatch(found: Detection[], box: Box, left: number, top: number, minIou: number): Landmarks | null {
  let best: Detection | undefined;
  let bestOverlap = minIou;
  for (const d of found) {
    if (!d.landmarks) continue;
    const shifted: Box = [d.box[0] + left, d.box[1] + top, d.box[2] + left, d.box[3] + top];
    const centreX = (shifted[0] + shifted[2]) / 2;
    const centreY = (shifted[1] + shifted[3]) / 2;
    if (centreX < box[0] || centreX > box[2] || centreY < box[1] || centreY > box[3]) continue;
    const overlap = iou(shifted, box);
    if (overlap > bestOverlap) {
      best = d;
      bestOverlap = overlap;
    }
  }
  return best?.landmarks ? (best.landmarks.map(([x, y]) => [x + left, y + top]) as Landmarks) : null;
}

function cropRaw(image: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * 3;
    data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { data, width, height };
}
