import os from 'node:os';
import pLimit from 'p-limit';
import type { InferenceEngine } from '../engines/engine.js';
import { type Detection, SCRFD_KEYPOINT_OUTPUT_COUNTS } from '../face/scrfd.js';
import { LumenError } from '../errors.js';
import type { ImageLimits } from '../image/limits.js';
import { type ImageInput, SourceImage } from '../image/source.js';
import type { Box, Landmarks } from '../types.js';
import { type BoxDetector, landmarksForBoxes } from './box-landmarks.js';
import { type BoxInput, type FaceRegion, normaliseBoxes } from './boxes.js';
import { alignedCrop, squareCrop } from './crops.js';
import { decodeScale } from './decode-scale.js';
import { detectFaces } from './detector.js';
import { type DetectOptionsInput, parseDetectOptions } from './options.js';
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
  landmarks: Landmarks;
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
  ) {
    // Alignment, and every face's landmarks in the answers, need the keypoint outputs.
    const { outputs } = engine.info.detection;
    if (!SCRFD_KEYPOINT_OUTPUT_COUNTS.includes(outputs)) {
      throw new LumenError('MODEL_LOAD_FAILED', `the detection model must be an SCRFD with five-point keypoints (${SCRFD_KEYPOINT_OUTPUT_COUNTS.join(' or ')} outputs); received ${outputs} outputs`);
    }
  }

  async detect(input: ImageInput, options: DetectOptionsInput = {}): Promise<PipelineResult<DetectedFace>> {
    const timings = emptyTimings();
    const source = await timed(timings, 'decode', () => SourceImage.open(input, this.settings.limits));
    const faces = await detectFaces(this.engine, source, this.settings.detSize, parseDetectOptions(options), timings);
    return { image: sizeOf(source), faces: faces.map(toDetectedFace), timings };
  }

  async faces(input: ImageInput, options: DetectOptionsInput = {}): Promise<PipelineResult<EmbeddedFace>> {
    const timings = emptyTimings();
    const source = await timed(timings, 'decode', () => SourceImage.open(input, this.settings.limits));
    const detections = await detectFaces(this.engine, source, this.settings.detSize, parseDetectOptions(options), timings);
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
      const landmarks = align ? await landmarksForBoxes(this.detector, source, image, regions, timings) : regions.map(() => null);
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

  private get detector(): BoxDetector {
    return { engine: this.engine, detSize: this.settings.detSize, limits: this.settings.limits };
  }

  get cropSize() {
    const { width, height } = this.engine.info.recognition;
    return { width, height };
  }
}

function toDetectedFace(d: Detection): DetectedFace {
  // The constructor refused detectors without keypoint outputs.
  if (d.landmarks === null) throw new Error('an SCRFD detection without landmarks from a keypoint model');
  return { box: d.box, score: d.score, landmarks: d.landmarks };
}

const sizeOf = (source: SourceImage): ImageSize => ({ width: source.width, height: source.height });
