import sharp, { type Metadata, type Sharp } from 'sharp';
import { LumenError } from '../errors.js';
import type { RgbImage } from '../types.js';
import type { ImageLimits } from './limits.js';
import { describeBytes } from './sniff.js';

/**
 * Photos up to this size keep their full-size decode when a resize needs every pixel anyway, so the
 * letterbox and the crops share it. Larger ones stream through sharp for each resize, as libvips never
 * holds all their pixels at once: memory stays bounded (a 100 MP PNG would otherwise hold 300 MB).
 */
const KEEP_FULL_DECODE_PIXELS = 16_000_000;

/** Encoded bytes (JPEG, PNG, ...) or raw RGB pixels. */
export type ImageInput = Uint8Array | RgbImage;

const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);
const FORMAT_LIST = 'JPEG, PNG, WebP, AVIF, GIF or TIFF';

/**
 * An input image whose header has been read and checked. Every pixel operation starts from
 * `pipeline()`, which already applies the EXIF orientation, so all coordinates are upright.
 */
export class SourceImage {
  private full: RgbImage | undefined;
  private fullPromise: Promise<RgbImage> | undefined;

  private constructor(
    private readonly input: ImageInput,
    readonly width: number,
    readonly height: number,
    readonly format: string,
    private readonly limits: ImageLimits,
  ) {
    if (isRgbImage(input)) this.full = input;
  }

  static async open(input: ImageInput, limits: ImageLimits): Promise<SourceImage> {
    if (isRgbImage(input)) return SourceImage.fromRaw(input, limits);
    const bytes = input;
    let meta: Metadata;
    try {
      meta = await sharp(bytes, { limitInputPixels: false }).metadata();
    } catch {
      throw unsupported(`expected a ${FORMAT_LIST} image, received ${describeBytes(bytes)}`);
    }
    const format = meta.format as string;
    if (!ACCEPTED_FORMATS.has(format)) {
      throw unsupported(`expected a ${FORMAT_LIST} image, received ${format.toUpperCase()}`);
    }
    if (format === 'heif' && meta.compression !== 'av1') {
      throw unsupported(
        `received ${describeBytes(bytes)} compressed with ${meta.compression ?? 'an unknown codec'}; ` +
          `this build has no HEVC decoder. Send ${FORMAT_LIST} (HEIC photos can be converted to JPEG)`,
      );
    }
    if (!meta.width || !meta.height) throw unsupported(`the ${format.toUpperCase()} header has no dimensions`);
    const swap = (meta.orientation ?? 1) >= 5;
    const width = swap ? meta.height : meta.width;
    const height = swap ? meta.width : meta.height;
    checkPixels(width, height, limits);
    return new SourceImage(bytes, width, height, format === 'heif' ? 'avif' : format, limits);
  }

  private static fromRaw(image: RgbImage, limits: ImageLimits): SourceImage {
    const { width, height, data } = image;
    if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
      throw new LumenError('INVALID_IMAGE', `raw image width and height must be positive integers, received ${width}x${height}`);
    }
    if (data.length !== width * height * 3) {
      throw new LumenError('INVALID_IMAGE', `raw RGB image ${width}x${height} needs ${width * height * 3} bytes, received ${data.length}`);
    }
    checkPixels(width, height, limits);
    return new SourceImage(image, width, height, 'raw', limits);
  }

  /** A sharp pipeline over the upright image, first frame only, decoded from the input bytes. */
  pipeline(): Sharp {
    const options = { limitInputPixels: this.limits.maxPixels, pages: 1, failOn: 'error' as const };
    if (isRgbImage(this.input)) {
      const { data, width, height } = this.input;
      return sharp(data, { ...options, raw: { width, height, channels: 3 } });
    }
    return sharp(this.input, options).rotate();
  }

  /**
   * The upright image resized to width x height, as a pipeline to finish. When sharp would decode
   * the photo at full size for this resize anyway (no shrink-on-load applies), it starts from the
   * photo's one full-size decode instead of decoding again: the pixels are the same, the work is not.
   */
  resizedPipeline(width: number, height: number): Sharp {
    const resize = { fit: 'fill' as const };
    if (this.reusesFullDecode(width, height)) return rawPipeline(this.full as RgbImage).resize(width, height, resize);
    return this.pipeline().resize(width, height, resize);
  }

  /**
   * Decode to upright 8-bit sRGB; alpha is flattened onto black. Level k decodes at 1/2^k of the
   * size (see levelSize), which for JPEG and WebP may shrink on load. The full-size decode is made
   * once and kept until release(); the same level of the same image always gives the same pixels.
   */
  async decode(level = 0): Promise<RgbImage> {
    if (level === 0) return this.fullDecode();
    const { width, height } = levelSize(this.width, this.height, level);
    if (this.keepsFullDecode(width, height)) await this.fullDecode();
    return toRgb(this.resizedPipeline(width, height), `${this.format.toUpperCase()} image`);
  }

  /** Whether a resize to width x height should decode the whole photo once and keep it for the next. */
  keepsFullDecode(width: number, height: number): boolean {
    return this.wouldDecodeFull(width, height) && (this.full !== undefined || this.width * this.height <= KEEP_FULL_DECODE_PIXELS);
  }

  /** Whether a resize to width x height starts from the kept full-size decode. */
  private reusesFullDecode(width: number, height: number): boolean {
    return this.full !== undefined && this.wouldDecodeFull(width, height);
  }

  /**
   * Whether sharp decodes every pixel for this resize: always for formats without shrink-on-load,
   * and for JPEG when its rule (sharp's pipeline.cc) picks a load shrink of 1. WebP scales on load.
   */
  wouldDecodeFull(width: number, height: number): boolean {
    if (this.format === 'raw') return true;
    const shrink = Math.min(this.width / width, this.height / height);
    if (this.format === 'webp') return shrink <= 1;
    if (this.format !== 'jpeg') return true;
    let load = shrink >= 8 ? 8 : shrink >= 4 ? 4 : shrink >= 2 ? 2 : 1;
    if (load > 1 && Math.trunc(shrink) === load) load /= 2;
    return load === 1;
  }

  private async fullDecode(): Promise<RgbImage> {
    if (isRgbImage(this.input)) return this.input;
    if (this.fullPromise === undefined) {
      this.fullPromise = toRgb(this.pipeline(), `${this.format.toUpperCase()} image`);
      this.fullPromise.then((image) => (this.full = image), () => (this.fullPromise = undefined));
    }
    return this.fullPromise;
  }

  /** Drop the kept full-size decode; later work decodes again. */
  release(): void {
    this.fullPromise = undefined;
    this.full = isRgbImage(this.input) ? this.input : undefined;
  }
}

/** A sharp pipeline over decoded pixels, which are within the limits already (so sharp's own pixel limit is off). */
export const rawPipeline = (image: RgbImage) =>
  sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 }, limitInputPixels: false });

/** Size of the level-k decode of a width x height image: 1/2^k of each side, rounded, at least 1. */
export function levelSize(width: number, height: number, level: number): { width: number; height: number } {
  const factor = 2 ** level;
  return { width: Math.max(1, Math.round(width / factor)), height: Math.max(1, Math.round(height / factor)) };
}

/** Finish a pipeline as interleaved 8-bit sRGB. Grayscale, CMYK, 16-bit and alpha inputs all end up here. */
export async function toRgb(pipeline: Sharp, what = 'image'): Promise<RgbImage> {
  try {
    const { data, info } = await pipeline
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
    if (info.channels !== 3) throw new Error(`expected 3 channels, got ${info.channels}`);
    return { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
  } catch (err) {
    if (err instanceof LumenError) throw err;
    throw new LumenError('UNSUPPORTED_IMAGE', `the ${what} could not be decoded: ${decodeProblem(err)}`, { cause: err });
  }
}

export function isRgbImage(input: unknown): input is RgbImage {
  return typeof input === 'object' && input !== null && !ArrayBuffer.isView(input) && 'data' in input && 'width' in input;
}

function checkPixels(width: number, height: number, limits: ImageLimits) {
  if (width * height > limits.maxPixels) {
    throw new LumenError('IMAGE_TOO_LARGE', `image is ${width}x${height} = ${width * height} pixels; the limit is ${limits.maxPixels} (LUMEN_FACE_MAX_PIXELS)`);
  }
}

/** libvips' wording stays in the log (the error's cause); the client is told what is wrong in ours. */
function decodeProblem(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  if (/premature end|truncated|unexpected end|end of (file|stream)|not enough data|short read/i.test(text)) {
    return 'the file ends early (truncated, or the upload was cut short)';
  }
  return 'the image data is damaged or not what its format header says';
}

const unsupported = (message: string) => new LumenError('UNSUPPORTED_IMAGE', message);
