import sharp from 'sharp';
import {
  type FaceQuality,
  headPose,
  LAPLACIAN_KERNEL,
  passesPose,
  passesSharpness,
  SHARPNESS_CROP,
  SHARPNESS_REGION,
  shorterSide,
} from '../face/quality.js';
import type { Detection } from '../face/scrfd.js';
import type { CropSize } from './crops.js';
import type { DetectOptions } from './options.js';

/**
 * The quality stage: pose from the landmarks, sharpness from the aligned crop (in sharp's threads,
 * off the event loop), and the knobs that drop faces. max_faces keeps the largest faces that pass the
 * quality knobs, so it is applied here, after them, rather than by the detector.
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
 * Variance of the 4-neighbour Laplacian over the inner face of the aligned gray crop (edges replicated):
 * libvips makes the Laplacian as float; its 12,000 values are summed here, on the photo worker's thread.
 */
export async function laplacianVariance(crop: Uint8Array, size: CropSize): Promise<number> {
  let pipeline = sharp(crop, { raw: { width: size.width, height: size.height, channels: 3 } });
  if (size.width !== SHARPNESS_CROP.width || size.height !== SHARPNESS_CROP.height) {
    pipeline = pipeline.resize(SHARPNESS_CROP.width, SHARPNESS_CROP.height, { fit: 'fill' });
  }
  const laplacian = await pipeline
    .extract(SHARPNESS_REGION)
    .greyscale()
    .convolve({ ...LAPLACIAN_KERNEL, kernel: [...LAPLACIAN_KERNEL.kernel] })
    .raw({ depth: 'float' })
    .toBuffer();
  const aligned = laplacian.byteOffset % 4 === 0 ? laplacian : new Uint8Array(laplacian);
  const values = new Float32Array(aligned.buffer, aligned.byteOffset, aligned.length / 4);
  return sampleVariance(values);
}

/** The variance libvips' stats() reports (its stdev squared: n - 1 in the denominator, double sums). */
function sampleVariance(values: Float32Array): number {
  let sum = 0;
  let sum2 = 0;
  for (let i = 0; i < values.length; i++) {
    sum += values[i];
    sum2 += values[i] * values[i];
  }
  const n = values.length;
  return Math.abs(sum2 - (sum * sum) / n) / (n - 1);
}

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
