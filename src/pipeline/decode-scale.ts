import { estimateSimilarity } from '../face/align.js';
import { arcfaceTemplate } from '../face/arcface.js';
import type { Box, Landmarks } from '../types.js';
import type { CropSize } from './crops.js';

/**
 * Faces are cropped from the photo decoded at a level of a fixed ladder: level k is the upright image
 * resized to 1/2^k of its size. A face's level depends on nothing but its own landmarks (or box), so
 * the same landmarks on the same photo give the same crop, and the same embedding, on every route,
 * whatever other faces share the photo. Level 0 is the full-size decode.
 */

/** The face keeps at least this many decoded pixels per pixel of the recognition input. */
const RESOLUTION_MARGIN = 1.5;

/** The coarsest level whose resolution is still at least `needed` (decoded pixels per image pixel). */
export function levelFor(needed: number): number {
  if (!(needed > 0) || needed >= 1) return 0;
  return Math.max(0, Math.floor(Math.log2(1 / needed) + 1e-9));
}

/** Recognition-input pixels per image pixel when these landmarks are aligned to the template. */
export function alignScale(landmarks: Landmarks, size: CropSize): number {
  const m = estimateSimilarity(landmarks, arcfaceTemplate(size.width, size.height));
  return Math.hypot(m[0], m[3]);
}

/** The decode level an aligned crop with these landmarks is taken from. */
export function landmarksLevel(landmarks: Landmarks, size: CropSize): number {
  return levelFor(RESOLUTION_MARGIN * alignScale(landmarks, size));
}

/** The decode level a plain square crop around this box is taken from. */
export function boxLevel(box: Box, size: CropSize): number {
  const side = Math.max(box[2] - box[0], box[3] - box[1]);
  return levelFor((RESOLUTION_MARGIN * Math.max(size.width, size.height)) / side);
}
