import sharp from 'sharp';
import { type FaceQuality, headPose, LAPLACIAN_KERNEL, passesPose, passesSharpness, SHARPNESS_CROP, SHARPNESS_REGION, shorterSide } from '../face/quality.js';
import type { Detection } from '../face/scrfd.js';
import type { CropSize } from './crops.js';
import type { DetectOptions } from './options.js';

/**
 * The quality stage: pose from the landmarks, sharpness from the aligned crop, and the knobs that
 * drop faces. max_faces keeps the largest faces that pass the quality knobs, so it is applied here, after them, rather than by the detector.
 */

/** Detector options with max_faces held back while a quality knob still has to drop faces. */
export function deferMaxFaces(options: DetectOptions): DetectOptions {
  return hasQualityKnob(options) ? { ...options, max_faces: undefined } : options;
}

/**
 * Drop faces outside max_yaw, before any pixel work. When no sharpness knob follows, max_faces is
 * applied here too, so only the faces kept are cropped.
 */
export function keepByPose(detections: Detection[], options: DetectOptions): Detection[] {
  const kept = detections.filter((d) => passesPose(d.landmarks ? headPose(d.landmarks).yaw : null, options));
  return options.min_sharpness === undefined ? limit(kept, options.max_faces) : kept;
}

/** Indices of the faces that pass min_sharpness, largest first, at most max_faces. */
export function keepBySharpness(qualities: readonly FaceQuality[], options: DetectOptions): number[] {
  const kept = qualities.flatMap((q, i) => (passesSharpness(q.sharpness, options) ? [i] : []));
  return limit(kept, options.max_faces);
}

/** Quality of each detection, measured on its crop (any size; the measure rescales it to the template). */
export async function measureQualities(detections: readonly Detection[], crops: readonly Uint8Array[], cropSize: CropSize): Promise<FaceQuality[]> {
  const sharpness = await Promise.all(crops.map((crop) => laplacianVariance(crop, cropSize)));
  return detections.map((d, i) => qualityOf(d, sharpness[i]));
}

/**
 * Variance of the 4-neighbour Laplacian over the inner face of the aligned gray crop (edges replicated),
 * computed here from the crop in memory: 64x72 pixels are far cheaper than a round trip through libvips.
 * Only a recognizer whose input is not 112x112 has its crop resized to the template first (by sharp).
 */
export async function laplacianVariance(crop: Uint8Array, size: CropSize): Promise<number> {
  if (size.width !== SHARPNESS_CROP.width || size.height !== SHARPNESS_CROP.height) {
    const resized = await sharp(crop, { raw: { width: size.width, height: size.height, channels: 3 } })
      .resize(SHARPNESS_CROP.width, SHARPNESS_CROP.height, { fit: 'fill' })
      .raw()
      .toBuffer();
    return templateSharpness(new Uint8Array(resized.buffer, resized.byteOffset, resized.length));
  }
  return templateSharpness(crop);
}

/** The sharpness of a 112x112 RGB crop (see laplacianVariance). */
export function templateSharpness(crop: Uint8Array): number {
  const { left, top, width, height } = SHARPNESS_REGION;
  const stride = SHARPNESS_CROP.width;
  // The gray of the region plus a one-pixel ring copied from its edges, as libvips convolves an extracted region.
  const gw = width + 2;
  const gh = height + 2;
  const gray = new Float64Array(gw * gh);
  for (let y = 0; y < gh; y++) {
    const sy = top + Math.min(height - 1, Math.max(0, y - 1));
    for (let x = 0; x < gw; x++) {
      const sx = left + Math.min(width - 1, Math.max(0, x - 1));
      const p = (sy * stride + sx) * 3;
      gray[y * gw + x] = grayOf(crop[p], crop[p + 1], crop[p + 2]);
    }
  }
  const k = LAPLACIAN_KERNEL.kernel;
  let sum = 0;
  let sum2 = 0;
  for (let y = 1; y <= height; y++) {
    for (let x = 1; x <= width; x++) {
      const i = y * gw + x;
      const v = k[1] * gray[i - gw] + k[3] * gray[i - 1] + k[4] * gray[i] + k[5] * gray[i + 1] + k[7] * gray[i + gw];
      sum += v;
      sum2 += v * v;
    }
  }
  // The variance libvips' stats() reports (its stdev squared: n - 1 in the denominator).
  const n = width * height;
  return Math.abs(sum2 - (sum * sum) / n) / (n - 1);
}

/**
 * libvips' sRGB to 8-bit gray, step for step: the luminance of the linear-light colour (Rec. 709
 * weights), looked up in its 256-entry table of rounded sRGB encodings, interpolated, and rounded.
 */
function grayOf(r: number, g: number, b: number): number {
  const y = Math.min(255, Math.max(0, (0.2126 * LINEAR[r] + 0.7152 * LINEAR[g] + 0.0722 * LINEAR[b]) * 255));
  const i = Math.min(254, Math.floor(y));
  return Math.round(ENCODED[i] + (ENCODED[i + 1] - ENCODED[i]) * (y - i));
}

const LINEAR = Float64Array.from({ length: 256 }, (_, v) => {
  const c = v / 255;
  return c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
});

const ENCODED = Int32Array.from({ length: 256 }, (_, v) => {
  const y = v / 255;
  return Math.round(255 * (y <= 0.0031308 ? 12.92 * y : 1.055 * y ** (1 / 2.4) - 0.055));
});

function qualityOf(d: Detection, sharpness: number): FaceQuality {
  const pose = d.landmarks ? headPose(d.landmarks) : { yaw: null, pitch: null, roll: null };
  return {
    yaw: round2(pose.yaw),
    pitch: round2(pose.pitch),
    roll: round2(pose.roll),
    sharpness: round2(sharpness) as number,
    size: round2(shorterSide(d.box)) as number,
  };
}

const hasQualityKnob = (options: DetectOptions) => options.max_yaw !== undefined || options.min_sharpness !== undefined;
const limit = <T>(items: T[], max: number | undefined) => (max === undefined ? items : items.slice(0, max));
const round2 = (x: number | null) => (x === null ? null : Math.round(x * 100) / 100);
