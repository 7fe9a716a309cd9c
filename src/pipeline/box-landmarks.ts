import type { FaceModels } from './face-models.js';
import { LumenError } from '../errors.js';
import { iou } from '../face/geometry.js';
import type { Detection } from '../face/scrfd.js';
import { type DecodeLadder, detectorInputOf, type HeldPixels } from '../image/ladder.js';
import type { Box, Landmarks } from '../types.js';
import type { FaceRegion } from './boxes.js';
import { regionOf } from './crops.js';
import { detectFaces, runDetector, takesAnyShape } from './detector.js';
import { parseDetectOptions } from './options.js';
import type { StageTimings } from './timings.js';

export interface BoxDetector {
  engine: FaceModels;
  detSize: number;
}

/**
 * Landmarks for each caller box: the sent ones, else the best match among the faces detected in
 * the whole image, else a detection on a margin around the box (small faces a whole-image pass misses).
 */
export async function landmarksForBoxes(
  detector: BoxDetector,
  ladder: DecodeLadder,
  regions: FaceRegion[],
  timings: StageTimings,
): Promise<(Landmarks | null)[]> {
  const needed = regions.some((r) => !r.landmarks);
  const whole = needed ? await detectFaces(detector.engine, ladder, detector.detSize, parseDetectOptions({}), timings) : [];
  const found = regions.map((r) => {
    if (r.landmarks) return r.landmarks;
    // For the whole image, the whole-image pass is the margin pass: take its best face whatever the overlap.
    return bestMatch(whole, r.box, 0, 0, isWholeImage(r.box, ladder) ? 0 : MIN_MATCH_IOU);
  });
  // Boxes sent more than once are detected around once.
  const pending = new Map<string, { box: Box; margin: Margin; indices: number[] }>();
  regions.forEach((r, i) => {
    if (found[i] !== null || isWholeImage(r.box, ladder)) return;
    const key = r.box.join(',');
    const entry = pending.get(key) ?? { box: r.box, margin: marginAround(r.box, ladder), indices: [] };
    entry.indices.push(i);
    pending.set(key, entry);
  });
  const work = [...pending.values()];
  if (work.length === 0) return found;
  if (work.length > MAX_LANDMARK_SEARCHES) {
    throw new LumenError(
      'INVALID_BOXES',
      `${work.length} boxes have no landmarks and match no face found in the image; ` +
        `at most ${MAX_LANDMARK_SEARCHES} per request are searched around (each is a detector run): send their landmarks, or align=false`,
    );
  }
  // Every margin from the same pixels: the finest any margin needs to fill the detector input.
  const pixels = await ladder.atResolution(Math.max(...work.map(({ margin }) => marginResolution(margin, detector.detSize))));
  const detected: (Landmarks | null)[] = [];
  for (const { box, margin } of work) detected.push(await landmarksAround(detector, pixels, box, margin, timings));
  for (const [j, { indices }] of work.entries()) for (const i of indices) found[i] = detected[j];
  return found;
}

/**
 * Boxes per request that get a detector run of their own around them: each costs about a whole-image
 * detection, so 256 such boxes cost half a minute of CPU. A request over it is refused before any runs.
 */
export const MAX_LANDMARK_SEARCHES = 32;

interface Size {
  width: number;
  height: number;
}

const isWholeImage = ([x1, y1, x2, y2]: Box, image: Size) => x1 === 0 && y1 === 0 && x2 === image.width && y2 === image.height;

interface Margin {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

/** Twice the box's longer side, centred on it, within the image. */
function marginAround(box: Box, source: Size): Margin {
  const side = 2 * Math.max(box[2] - box[0], box[3] - box[1]);
  const cx = (box[0] + box[2]) / 2;
  const cy = (box[1] + box[3]) / 2;
  return {
    left: Math.max(0, Math.floor(cx - side / 2)),
    top: Math.max(0, Math.floor(cy - side / 2)),
    right: Math.min(source.width, Math.ceil(cx + side / 2)),
    bottom: Math.min(source.height, Math.ceil(cy + side / 2)),
  };
}

/** Decoded pixels per image pixel at which the margin still fills the detector input (native resolution if smaller). */
function marginResolution(margin: Margin, detSize: number): number {
  const side = Math.max(margin.right - margin.left, margin.bottom - margin.top);
  return Math.min(1, detSize / side);
}

/** Run the detector on the margin around the box, never upscaled (upscaling blurs small faces). */
async function landmarksAround(
  detector: BoxDetector,
  { image, sx, sy }: HeldPixels,
  box: Box,
  margin: Margin,
  timings: StageTimings,
): Promise<Landmarks | null> {
  const left = Math.floor(margin.left * sx);
  const top = Math.floor(margin.top * sy);
  const width = Math.max(1, Math.ceil(margin.right * sx) - left);
  const height = Math.max(1, Math.ceil(margin.bottom * sy) - top);
  const region = await regionOf(image, left, top, width, height);
  const input = await detectorInputOf(region, detector.detSize, takesAnyShape(detector.engine));
  const found = await runDetector(detector.engine, input, region.width, region.height, parseDetectOptions({}), timings);
  const scaledBox: Box = [box[0] * sx, box[1] * sy, box[2] * sx, box[3] * sy];
  const match = bestMatch(found, scaledBox, left, top, 0);
  return match ? (match.map(([x, y]) => [x / sx, y / sy]) as Landmarks) : null;
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
