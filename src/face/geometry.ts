import type { Box } from '../types.js';

/** Area in continuous pixel coordinates (no +1), 0 for empty or inverted boxes. */
export function boxArea(box: Box): number {
  const w = box[2] - box[0];
  const h = box[3] - box[1];
  return w > 0 && h > 0 ? w * h : 0;
}

export function iou(a: Box, b: Box): number {
  const iw = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const ih = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (iw <= 0 || ih <= 0) return 0;
  const inter = iw * ih;
  const union = boxArea(a) + boxArea(b) - inter;
  return union > 0 ? inter / union : 0;
}

/** Clamp to [0, width] x [0, height]; null when nothing of the box is left. */
export function clampBox(box: Box, width: number, height: number): Box | null {
  const x1 = Math.min(Math.max(box[0], 0), width);
  const y1 = Math.min(Math.max(box[1], 0), height);
  const x2 = Math.min(Math.max(box[2], 0), width);
  const y2 = Math.min(Math.max(box[3], 0), height);
  return x2 > x1 && y2 > y1 ? [x1, y1, x2, y2] : null;
}
