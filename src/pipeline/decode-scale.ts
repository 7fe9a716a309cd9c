import { estimateSimilarity } from '../face/align.js';
import { arcfaceTemplate } from '../face/arcface.js';
import type { Detection } from '../face/scrfd.js';

/**
 * How small the photo can be decoded for alignment: every face keeps at least twice the resolution
 * of the recognition input, so nothing is lost, while a 12 MP photo of large faces is not decoded in full.
 */
export function decodeScale(detections: Detection[], size: { width: number; height: number }): number {
  const template = arcfaceTemplate(size.width, size.height);
  let needed = 0;
  for (const d of detections) {
    let scale: number;
    if (d.landmarks) {
      const m = estimateSimilarity(d.landmarks, template);
      scale = Math.hypot(m[0], m[3]);
    } else {
      scale = Math.max(size.width, size.height) / Math.max(d.box[2] - d.box[0], d.box[3] - d.box[1]);
    }
    needed = Math.max(needed, 2 * scale);
  }
  return needed >= 0.75 ? 1 : needed;
}
