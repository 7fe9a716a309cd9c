import type { RgbImage } from '../types.js';
import { rawPipeline, type SourceImage, toRgb } from './source.js';

/**
 * The decode ladder: a photo's pixels, decoded once, and decoded again only when a need is finer than
 * the pixels held. Coarser needs are met from the pixels held (resized, or warped with a pre-shrink);
 * a finer decode replaces them and serves everything after. Every decode of a photo, and every resize
 * of its held pixels, is timed here.
 *
 * Photos up to KEEP_FULL_DECODE_PIXELS are decoded whole at the first need: the detector's letterbox is
 * then resized from the very pixels the crops are warped from. Measured (docs/performance.md): a
 * shrink-on-load letterbox moves a large face's landmarks enough to cost up to 0.008 of embedding
 * cosine, and on 12 MP photos the faces need more than a third of the pixels (a full libjpeg decode)
 * anyway, so a coarse first decode is work done twice.
 *
 * Larger photos stream through libvips (shrink-on-load for JPEG) to the scale asked for, and only a face
 * too small for those pixels earns a finer decode: a request holds one decoded image at a time, and a
 * 100 MP PNG letterboxed for detection never holds 300 MB.
 */

/** Photos up to this size are decoded whole and their pixels kept until released. */
export const KEEP_FULL_DECODE_PIXELS = 16_000_000;

/** Decoded pixels, and how many of them there are per pixel of the upright image, on each axis. */
export interface HeldPixels {
  image: RgbImage;
  sx: number;
  sy: number;
}

/** What the ladder did, for tests and benchmarks: each decode's output size, in order. */
export interface LadderDecode {
  width: number;
  height: number;
}

export class DecodeLadder {
  private held: HeldPixels | undefined;
  private queue: Promise<unknown> = Promise.resolve();
  readonly decodes: LadderDecode[] = [];
  /** Milliseconds spent decoding and resizing this photo's pixels. */
  ms = 0;

  constructor(readonly source: SourceImage) {
    if (source.raw) this.held = { image: source.raw, sx: 1, sy: 1 };
  }

  get width(): number {
    return this.source.width;
  }

  get height(): number {
    return this.source.height;
  }

  /**
   * Pixels at least `width` x `height` (each at most the photo's size): the ones held when they are
   * fine enough, else one new decode, which is then held in their place.
   */
  atLeast(width: number, height: number): Promise<HeldPixels> {
    const w = Math.min(this.width, Math.max(1, Math.ceil(width)));
    const h = Math.min(this.height, Math.max(1, Math.ceil(height)));
    // Needs are met one after another, so two at once never decode twice.
    const next = this.queue.then(async () => {
      if (this.held && this.held.image.width >= w && this.held.image.height >= h) return this.held;
      this.held = undefined;
      this.held = await this.timed(() => this.decodeAt(w, h));
      return this.held;
    });
    this.queue = next.catch(() => undefined);
    return next;
  }

  /** Pixels with at least `resolution` decoded pixels per image pixel (at most 1). */
  atResolution(resolution: number): Promise<HeldPixels> {
    const r = Math.min(1, resolution);
    return this.atLeast(this.width * r, this.height * r);
  }

  /**
   * The upright photo at exactly width x height: the pixels held when they are that size, else
   * resized from them (never a second decode for a coarser size than one held).
   */
  async resized(width: number, height: number): Promise<RgbImage> {
    const held = await this.atLeast(width, height);
    if (held.image.width === width && held.image.height === height) return held.image;
    return this.timed(() => resizeRgb(held.image, width, height));
  }

  /** Drop the held pixels: later needs decode again. */
  release(): void {
    this.held = this.source.raw ? { image: this.source.raw, sx: 1, sy: 1 } : undefined;
  }

  private async decodeAt(width: number, height: number): Promise<HeldPixels> {
    const { source } = this;
    const whole = source.width * source.height <= KEEP_FULL_DECODE_PIXELS;
    const [w, h] = whole ? [source.width, source.height] : [width, height];
    const image = await toRgb(
      w === source.width && h === source.height ? source.pipeline() : source.pipeline().resize(w, h, { fit: 'fill' }),
      `${source.format.toUpperCase()} image`,
    );
    this.decodes.push({ width: image.width, height: image.height });
    return { image, sx: image.width / source.width, sy: image.height / source.height };
  }

  private async timed<T>(work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.ms += performance.now() - start;
    }
  }
}

/** A photo's detector input: the upright image at `scale`, padded with black at the right and bottom. */
export interface DetectorInput {
  image: RgbImage;
  /** Network pixels per image pixel (InsightFace det_scale). */
  scale: number;
}

/**
 * The size a photo is detected at: shrunk to fit `size` (InsightFace's letterbox rule), never enlarged,
 * and the padded input around it: the next multiples of 32 on a graph that takes any shape, the square
 * `size` x `size` on a fixed graph.
 */
export function detectorShape(width: number, height: number, size: number, anyShape: boolean) {
  const fits = width <= size && height <= size;
  const [contentWidth, contentHeight] = fits
    ? [width, height]
    : height > width
      ? [Math.max(1, Math.floor((size * width) / height)), size]
      : [size, Math.max(1, Math.floor((size * height) / width))];
  const up32 = (n: number) => Math.max(32, Math.ceil(n / 32) * 32);
  const [inputWidth, inputHeight] = anyShape ? [up32(contentWidth), up32(contentHeight)] : [size, size];
  return { contentWidth, contentHeight, inputWidth, inputHeight, scale: contentHeight / height };
}

/** The photo held by the ladder as a detector input (see detectorShape). */
export async function detectorInput(ladder: DecodeLadder, size: number, anyShape: boolean): Promise<DetectorInput> {
  const shape = detectorShape(ladder.width, ladder.height, size, anyShape);
  const content = await ladder.resized(shape.contentWidth, shape.contentHeight);
  return { image: padRgb(content, shape.inputWidth, shape.inputHeight), scale: shape.scale };
}

/** Raw pixels (a region of a photo) as a detector input, shrunk by sharp when larger than `size`. */
export async function detectorInputOf(image: RgbImage, size: number, anyShape: boolean): Promise<DetectorInput> {
  const shape = detectorShape(image.width, image.height, size, anyShape);
  const content =
    shape.contentWidth === image.width && shape.contentHeight === image.height ? image : await resizeRgb(image, shape.contentWidth, shape.contentHeight);
  return { image: padRgb(content, shape.inputWidth, shape.inputHeight), scale: shape.scale };
}

/** The image at the top left of a width x height black canvas (a row copy each: no per-pixel work). */
export function padRgb(image: RgbImage, width: number, height: number): RgbImage {
  if (image.width === width && image.height === height) return image;
  const out = new Uint8Array(width * height * 3);
  const row = image.width * 3;
  for (let y = 0; y < image.height; y++) out.set(image.data.subarray(y * row, (y + 1) * row), y * width * 3);
  return { data: out, width, height };
}

/** Raw RGB resized by libvips (antialiased shrink), off the event loop. */
export function resizeRgb(image: RgbImage, width: number, height: number): Promise<RgbImage> {
  return toRgb(rawPipeline(image).resize(width, height, { fit: 'fill' }));
}
