import os from 'node:os';
import pLimit from 'p-limit';
import type { InferenceEngine } from '../backends/engine.js';
import type { Detection } from '../face/scrfd.js';
import { iou } from '../face/geometry.js';
import { LumenError } from '../errors.js';
import type { ImageLimits } from '../image/limits.js';
import { type ImageInput, SourceImage } from '../image/source.js';
import type { Box, Landmarks, RgbImage } from '../types.js';
import { type BoxInput, type FaceRegion, normaliseBoxes } from './boxes.js';
import { alignedCrop, squareCrop } from './crops.js';
import { arcfaceTemplate, estimateSimilarity } from '../face/align.js';
import { detectFaces } from './detector.js';
import { type DetectOptions, type DetectOptionsInput, detectOptionsSchema } from './options.js';
import { embedCrops } from './recognizer.js';
import { emptyTimings, type StageTimings, timed } from './timings.js';

export interface PipelineSettings {
  detSize: number;
  maxBatchSize: number;
  maxBoxes: number;
  limits: ImageLimits;
}

export interface ImageSize {
  width: number;
  height: number;
}

export interface DetectedFace {
  box: Box;
  score: number;
  landmarks: Landmarks | null;
}

export interface EmbeddedFace extends DetectedFace {
  embedding: Float32Array;
}

export interface EmbeddedBox {
  box: Box;
  aligned: boolean;
  /** The landmarks the crop was aligned with (sent, or detected around the box). */
  landmarks: Landmarks | null;
  embedding: Float32Array;
}

export interface EmbedOptions {
  /** Boxes in pixels of the upright image; omitted or null embeds the whole image. */
  boxes?: readonly BoxInput[] | null;
  /** Align to the ArcFace template (default true). */
  align?: boolean;
}

export interface PipelineResult<F> {
  image: ImageSize;
  faces: F[];
  timings: StageTimings;
}

/** A full decode of a 100 MP photo is 300 MB, so bound how many are in memory at once. */
const fullDecodes = pLimit(Math.max(2, os.availableParallelism()));

/** Detect, align and embed, written once for every runtime. */
export class FacePipeline {
  constructor(
    readonly engine: InferenceEngine,
    readonly settings: PipelineSettings,
  ) {}

  async detect(input: ImageInput, options: DetectOptionsInput = {}): Promise<PipelineResult<DetectedFace>> {
    const timings = emptyTimings();
    const source = await timed(timings, 'decode', () => SourceImage.open(input, this.settings.limits));
    const faces = await detectFaces(this.engine, source, this.settings.detSize, parseOptions(options), timings);
    return { image: sizeOf(source), faces: faces.map(toDetectedFace), timings };
  }

  async faces(input: ImageInput, options: DetectOptionsInput = {}): Promise<PipelineResult<EmbeddedFace>> {
    const timings = emptyTimings();
    const source = await timed(timings, 'decode', () => SourceImage.open(input, this.settings.limits));
    const detections = await detectFaces(this.engine, source, this.settings.detSize, parseOptions(options), timings);
    if (detections.length === 0) return { image: sizeOf(source), faces: [], timings };

    const embeddings = await fullDecodes(async () => {
      const image = await timed(timings, 'decode', () => source.decode(decodeScale(detections, this.cropSize)));
      const sx = image.width / source.width;
      const sy = image.height / source.height;
      const crops = await timed(timings, 'align', () =>
        Promise.all(detections.map((d) => (d.landmarks
          ? alignedCrop(image, d.landmarks.map(([x, y]) => [x * sx, y * sy]) as Landmarks, this.cropSize)
          : squareCrop(image, [d.box[0] * sx, d.box[1] * sy, d.box[2] * sx, d.box[3] * sy], this.cropSize)))),
      );
      return timed(timings, 'embed', () => embedCrops(this.engine, crops, this.settings.maxBatchSize));
    });
    const faces = detections.map((d, i) => ({ ...toDetectedFace(d), embedding: embeddings[i] }));
    return { image: sizeOf(source), faces, timings };
  }

  async embed(input: ImageInput, options: EmbedOptions = {}): Promise<PipelineResult<EmbeddedBox>> {
    const timings = emptyTimings();
    const align = options.align ?? true;
    const source = await timed(timings, 'decode', () => SourceImage.open(input, this.settings.limits));
    const regions: FaceRegion[] =
      options.boxes == null
        ? [{ box: [0, 0, source.width, source.height] }]
        : normaliseBoxes(options.boxes, source.width, source.height, this.settings.maxBoxes);
    if (regions.length === 0) return { image: sizeOf(source), faces: [], timings };

    const faces = await fullDecodes(async () => {
      const image = await timed(timings, 'decode', () => source.decode());
      const landmarks = align ? await this.landmarksFor(source, image, regions, timings) : regions.map(() => null);
      const crops = await timed(timings, 'align', () =>
        Promise.all(regions.map((r, i) => {
          const points = landmarks[i];
          return points ? alignedCrop(image, points, this.cropSize) : squareCrop(image, r.box, this.cropSize);
        })),
      );
      const embeddings = await timed(timings, 'embed', () => embedCrops(this.engine, crops, this.settings.maxBatchSize));
      return regions.map((r, i) => ({ box: r.box, aligned: landmarks[i] !== null, landmarks: landmarks[i], embedding: embeddings[i] }));
    });
    return { image: sizeOf(source), faces, timings };
  }

  get cropSize() {
    const { width, height } = this.engine.info.recognition;
    return { width, height };
  }

  /**
   * Landmarks for each caller box: the sent ones, else the best match among the faces detected in
   * the whole image, else a detection on a margin around the box (small faces a whole-image pass misses).
   */
  private async landmarksFor(source: SourceImage, image: RgbImage, regions: FaceRegion[], timings: StageTimings): Promise<(Landmarks | null)[]> {
    const needed = regions.filter((r) => !r.landmarks);
    const whole = needed.length > 0 ? await detectFaces(this.engine, source, this.settings.detSize, parseOptions({}), timings) : [];
    return Promise.all(
      regions.map(async (r) => {
        if (r.landmarks) return r.landmarks;
        const [x1, y1, x2, y2] = r.box;
        const isWholeImage = x1 === 0 && y1 === 0 && x2 === image.width && y2 === image.height;
        // For the whole image, the whole-image pass is the margin pass: take its best face whatever the overlap.
        const match = bestMatch(whole, r.box, 0, 0, isWholeImage ? 0 : MIN_MATCH_IOU);
        return match ?? (isWholeImage ? null : this.landmarksAround(image, r.box, timings));
      }),
    );
  }

  /** Run the detector on a margin around the box, at native resolution (upscaling blurs small faces). */
  private async landmarksAround(image: RgbImage, box: Box, timings: StageTimings): Promise<Landmarks | null> {
    const side = 2 * Math.max(box[2] - box[0], box[3] - box[1]);
    const cx = (box[0] + box[2]) / 2;
    const cy = (box[1] + box[3]) / 2;
    const left = Math.max(0, Math.floor(cx - side / 2));
    const top = Math.max(0, Math.floor(cy - side / 2));
    const right = Math.min(image.width, Math.ceil(cx + side / 2));
    const bottom = Math.min(image.height, Math.ceil(cy + side / 2));
    const region = cropRaw(image, left, top, right - left, bottom - top);
    const source = await SourceImage.open(region, this.settings.limits);
    const found = await detectFaces(this.engine, source, this.settings.detSize, parseOptions({}), timings, { upscale: false });
    return bestMatch(found, box, left, top, 0);
  }
}

/** A whole-image detection must overlap the caller's box this much to stand for it. */
const MIN_MATCH_IOU = 0.3;

/**
 * Landmarks of the detection (offset by left, top) whose centre lies in the box and that overlaps it most.
 */
function bestMatch(found: Detection[], box: Box, left: number, top: number, minIou: number): Landmarks | null {
  let best: Detection | undefined;
  let bestOverlap = minIou;
  for (const d of found) {
    if (!d.landmarks) continue;
    const shifted: Box = [d.box[0] + left, d.box[1] + top, d.box[2] + left, d.box[3] + top];
    const centreX = (shifted[0] + shifted[2]) / 2;
    const centreY = (shifted[1] + shifted[3]) / 2;
    if (centreX < box[0] || centreX > box[2] || centreY < box[1] || centreY > box[3]) continue;
    const overlap = iou(shifted, box);
    if (overlap > bestOverlap) {
      best = d;
      bestOverlap = overlap;
    }
  }
  return best?.landmarks ? (best.landmarks.map(([x, y]) => [x + left, y + top]) as Landmarks) : null;
}

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

function parseOptions(options: DetectOptionsInput): DetectOptions {
  const parsed = detectOptionsSchema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = issue.path.join('.');
  throw new LumenError(400, 'INVALID_OPTION', `${name} is invalid: ${issue.message} (received ${JSON.stringify((options as Record<string, unknown>)[name])})`);
}

function toDetectedFace(d: Detection): DetectedFace {
  return { box: d.box, score: d.score, landmarks: d.landmarks };
}

const sizeOf = (source: SourceImage): ImageSize => ({ width: source.width, height: source.height });

function cropRaw(image: RgbImage, left: number, top: number, width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const from = ((top + y) * image.width + left) * 3;
    data.set(image.data.subarray(from, from + width * 3), y * width * 3);
  }
  return { data, width, height };
}
