import sharp, { type Metadata, type Sharp } from 'sharp';
import { LumenError } from '../errors.js';
import type { RgbImage } from '../types.js';
import type { ImageLimits } from './limits.js';
import { describeBytes } from './sniff.js';

/** Encoded bytes (JPEG, PNG, ...) or raw RGB pixels. */
export type ImageInput = Uint8Array | RgbImage;

const ACCEPTED_FORMATS = new Set(['jpeg', 'png', 'webp', 'gif', 'tiff', 'heif']);
const FORMAT_LIST = 'JPEG, PNG, WebP, AVIF, GIF or TIFF';

/**
 * An input image whose header has been read and checked. Every pixel operation starts from
 * `pipeline()`, which already applies the EXIF orientation, so all coordinates are upright.
 */
export class SourceImage {
  private constructor(
    private readonly input: ImageInput,
    readonly width: number,
    readonly height: number,
    readonly format: string,
    private readonly limits: ImageLimits,
  ) {}

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

  /** The input's pixels when it was sent as raw RGB (nothing to decode). */
  get raw(): RgbImage | undefined {
    return isRgbImage(this.input) ? this.input : undefined;
  }

  /** The whole upright image at full size, decoded now (the decode ladder decides when that is worth it). */
  async decode(): Promise<RgbImage> {
    return this.raw ?? toRgb(this.pipeline(), `${this.format.toUpperCase()} image`);
  }
}

/** Finish a pipeline as interleaved 8-bit sRGB. Grayscale, CMYK, 16-bit and alpha inputs all end up here. */
/** A sharp pipeline over pixels already decoded (no size limit: they were checked when decoded). */
export function rawPipeline(image: RgbImage): Sharp {
  return sharp(image.data, { raw: { width: image.width, height: image.height, channels: 3 }, limitInputPixels: false });
}

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
