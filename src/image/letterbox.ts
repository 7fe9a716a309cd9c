import type { RgbImage } from '../types.js';
import { type SourceImage, toRgb } from './source.js';

export interface Letterboxed {
  /** size x size RGB; the image sits at the top left, the rest is zero. */
  image: RgbImage;
  /** Network pixels per image pixel. */
  scale: number;
}

/**
 * Letterbox the upright image into a size x size square (InsightFace convention).
 * sharp resizes natively and uses JPEG shrink-on-load, so a 12 MP photo is never fully decoded for detection.
 */
export async function letterbox(source: SourceImage, size: number, options: { upscale?: boolean } = {}): Promise<Letterboxed> {
  const { width, height } = source;
  const fits = width <= size && height <= size;
  const [newWidth, newHeight] =
    options.upscale === false && fits
      ? [width, height]
      : height > width
        ? [Math.max(1, Math.floor((size * width) / height)), size]
        : [size, Math.max(1, Math.floor((size * height) / width))];
  if (source.keepsFullDecode(newWidth, newHeight)) await source.decode(0);
  const pipeline = source
    .resizedPipeline(newWidth, newHeight)
    .extend({ right: size - newWidth, bottom: size - newHeight, background: { r: 0, g: 0, b: 0 } });
  const image = await toRgb(pipeline);
  return { image, scale: newHeight / height };
}
