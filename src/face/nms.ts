import type { Box } from '../types.js';
import { iou } from './geometry.js';

export interface Scored {
  box: Box;
  score: number;
}

/**
 * Greedy non-maximum suppression, InsightFace style: walk by score (desc) and drop every later
 * box whose IoU with a kept one is strictly greater than `iouThreshold`.
 * Returns the kept items sorted by score desc (ties keep input order).
 */
export function nms<T extends Scored>(dets: readonly T[], iouThreshold: number): T[] {
  const order = dets.slice().sort((p, q) => q.score - p.score);
  const suppressed = new Uint8Array(order.length);
  const keep: T[] = [];
  for (let i = 0; i < order.length; i++) {
    if (suppressed[i]) continue;
    const kept = order[i];
    keep.push(kept);
    for (let j = i + 1; j < order.length; j++) {
      if (!suppressed[j] && iou(kept.box, order[j].box) > iouThreshold) suppressed[j] = 1;
    }
  }
  return keep;
}
