import ort from 'onnxruntime-node';
import sharp from 'sharp';
import { ARCFACE_NORM } from '../../src/face/arcface.js';
import { headPose, LAPLACIAN_KERNEL, SHARPNESS_REGION, shorterSide } from '../../src/face/quality.js';
import { decodeScrfd, SCRFD_NORM } from '../../src/face/scrfd.js';
import { detectorShape } from '../../src/image/ladder.js';
import { alignedCrop } from '../../src/pipeline/crops.js';
import { MIN_INPUT_SIDE } from '../../src/pipeline/detector.js';
import type { Box, Landmarks, RgbImage, Tensor } from '../../src/types.js';

/**
 * The straightforward face pipeline the service's answers are held to, with none of its shortcuts:
 * decode the whole upright photo once; letterbox it by resizing those pixels (at the service's
 * detector shape: shrunk to fit 640, never enlarged, padded to multiples of 32, as the shared graphs
 * take; `square` gives InsightFace's 640x640, enlarging small photos); warp every crop from the
 * full-resolution pixels;
 * sharpness through libvips (gray, Laplacian, statistics), as the measure is defined.
 * Same knobs as the service's defaults: min_score 0.5, nms 0.4, min_size 0, largest face first, and the
 * detector's floor on a face's size in its own input (MIN_INPUT_SIDE).
 */

export interface ReferenceFace {
  box: Box;
  score: number;
  landmarks: Landmarks;
  quality: { yaw: number | null; pitch: number | null; roll: number; sharpness: number; size: number };
  embedding: Float32Array;
}

export interface ReferenceAnswer {
  image: { width: number; height: number };
  faces: ReferenceFace[];
}

const DET_SIZE = 640;
const CROP = { width: 112, height: 112 };

export class ReferencePipeline {
  private constructor(
    private readonly detection: ort.InferenceSession,
    private readonly recognition: ort.InferenceSession,
    private readonly square: boolean,
  ) {}

  static async open(detectionPath: string, recognitionPath: string, square = false): Promise<ReferencePipeline> {
    const options: ort.InferenceSession.SessionOptions = { intraOpNumThreads: 1, logSeverityLevel: 3 };
    return new ReferencePipeline(
      await ort.InferenceSession.create(detectionPath, options),
      await ort.InferenceSession.create(recognitionPath, options),
      square,
    );
  }

  async faces(bytes: Uint8Array): Promise<ReferenceAnswer> {
    const { data, info } = await sharp(bytes)
      .rotate()
      .flatten({ background: { r: 0, g: 0, b: 0 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    const full: RgbImage = { data: new Uint8Array(data.buffer, data.byteOffset, data.length), width: info.width, height: info.height };
    const { width, height } = full;
    const [newWidth, newHeight, inputWidth, inputHeight] = this.square
      ? height > width
        ? [Math.max(1, Math.floor((DET_SIZE * width) / height)), DET_SIZE, DET_SIZE, DET_SIZE]
        : [DET_SIZE, Math.max(1, Math.floor((DET_SIZE * height) / width)), DET_SIZE, DET_SIZE]
      : (({ contentWidth, contentHeight, inputWidth, inputHeight }) => [contentWidth, contentHeight, inputWidth, inputHeight])(
          detectorShape(width, height, DET_SIZE, true),
        );
    const boxed = await sharp(full.data, { raw: { width, height, channels: 3 } })
      .resize(newWidth, newHeight, { fit: 'fill' })
      .extend({ right: inputWidth - newWidth, bottom: inputHeight - newHeight, background: { r: 0, g: 0, b: 0 } })
      .raw()
      .toBuffer();
    const input = nchw(new Uint8Array(boxed.buffer, boxed.byteOffset, boxed.length), inputWidth, inputHeight, SCRFD_NORM);
    const results = await this.detection.run({ [this.detection.inputNames[0]]: new ort.Tensor('float32', input, [1, 3, inputHeight, inputWidth]) });
    const outputs = this.detection.outputNames.map((n): Tensor => ({ data: results[n].data as Float32Array, dims: [...results[n].dims] }));
    const detections = decodeScrfd(outputs, {
      inputWidth,
      inputHeight,
      scale: newHeight / height,
      imageWidth: width,
      imageHeight: height,
      minScore: 0.5,
      nmsIou: 0.4,
    })
      .filter((d) => Math.min(d.box[2] - d.box[0], d.box[3] - d.box[1]) * (newHeight / height) >= MIN_INPUT_SIDE)
      .sort((a, b) => area(b.box) - area(a.box));

    const faces: ReferenceFace[] = [];
    for (const d of detections) {
      const landmarks = d.landmarks as Landmarks;
      const crop = await alignedCrop(full, landmarks, CROP);
      const out = await this.recognition.run({
        [this.recognition.inputNames[0]]: new ort.Tensor('float32', nchw(crop, CROP.width, CROP.height, ARCFACE_NORM), [1, 3, CROP.height, CROP.width]),
      });
      const pose = headPose(landmarks);
      faces.push({
        box: d.box,
        score: d.score,
        landmarks,
        quality: { yaw: pose.yaw, pitch: pose.pitch, roll: pose.roll, sharpness: await libvipsSharpness(crop), size: shorterSide(d.box) },
        embedding: unit(out[this.recognition.outputNames[0]].data as Float32Array),
      });
    }
    return { image: { width, height }, faces };
  }

  async close(): Promise<void> {
    await this.detection.release();
    await this.recognition.release();
  }
}

/** Variance of the 4-neighbour Laplacian on the gray inner face, every step in libvips. */
async function libvipsSharpness(crop: Uint8Array): Promise<number> {
  const stats = await sharp(crop, { raw: { width: CROP.width, height: CROP.height, channels: 3 } })
    .extract(SHARPNESS_REGION)
    .greyscale()
    .convolve({ ...LAPLACIAN_KERNEL, kernel: [...LAPLACIAN_KERNEL.kernel] })
    .raw({ depth: 'float' })
    .toBuffer();
  const values = new Float32Array(stats.buffer.slice(stats.byteOffset, stats.byteOffset + stats.length));
  let sum = 0;
  let sum2 = 0;
  for (const v of values) {
    sum += v;
    sum2 += v * v;
  }
  return (sum2 - (sum * sum) / values.length) / (values.length - 1);
}

function nchw(pixels: Uint8Array, width: number, height: number, { mean, std }: { mean: number; std: number }): Float32Array {
  const plane = width * height;
  const out = new Float32Array(3 * plane);
  for (let i = 0; i < plane; i++) for (let c = 0; c < 3; c++) out[c * plane + i] = (pixels[i * 3 + c] - mean) / std;
  return out;
}

function unit(v: Float32Array): Float32Array {
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
}

const area = (b: Box) => (b[2] - b[0]) * (b[3] - b[1]);
