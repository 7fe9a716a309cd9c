import os from 'node:os';
import pLimit from 'p-limit';
import type { FaceModels } from './face-models.js';
import { type Detection, SCRFD_KEYPOINT_OUTPUT_COUNTS } from '../face/scrfd.js';
import { LumenError } from '../errors.js';
import type { ImageLimits } from '../image/limits.js';
import { DecodeLadder } from '../image/ladder.js';
import { type ImageInput, SourceImage } from '../image/source.js';
import type { Box, Landmarks } from '../types.js';
import { type BoxDetector, landmarksForBoxes } from './box-landmarks.js';
import { type BoxInput, type FaceRegion, normaliseBoxes } from './boxes.js';
import { cropFaces, type CropRequest } from './crops.js';
import { detectFaces } from './detector.js';
import type { DetectOptions, PhotoOptions } from './options.js';
import { embedCrops } from './recognizer.js';
import { keepByPose, keepBySharpness, measureQualities } from './quality.js';
import { type FaceQuality, SHARPNESS_CROP } from '../face/quality.js';
import { emptyTimings, type StageTimings, timed } from './timings.js';

export interface PipelineSettings {
  detSize: number;
  maxBatchSize: number;
  maxBoxes: number;
  /** Most faces kept per image by detect and faces; each kept face costs an embedding. */
  maxFaces: number;
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

export interface QualifiedFace extends DetectedFace {
  quality: FaceQuality;
}

export interface EmbeddedFace extends QualifiedFace {
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

/** A full decode of a 100 MP photo is 300 MB, so bound how many requests hold one at once (each holds at most one). */
const fullDecodes = pLimit(Math.max(2, os.availableParallelism()));

/** Detect, align and embed, written once for every runtime. */
export class FacePipeline {
  constructor(
    readonly engine: FaceModels,
    readonly settings: PipelineSettings,
  ) {
    // Alignment, and every face's landmarks in the answers, need the keypoint outputs.
    const { outputs } = engine.info.detection;
    if (!SCRFD_KEYPOINT_OUTPUT_COUNTS.includes(outputs)) {
      throw new LumenError(
        'MODEL_LOAD_FAILED',
        `the detection model must be an SCRFD with five-point keypoints (${SCRFD_KEYPOINT_OUTPUT_COUNTS.join(' or ')} outputs); received ${outputs} outputs`,
      );
    }
  }

  async detect(input: ImageInput, options: PhotoOptions): Promise<PipelineResult<QualifiedFace>> {
    const timings = emptyTimings();
    const source = await timed(timings, 'decode', () => SourceImage.open(input, this.settings.limits));
    return fullDecodes(() =>
      withLadder(source, timings, async (ladder) => {
        const detections = keepByPose(await detectFaces(this.engine, ladder, this.settings.detSize, this.detectorOptions(options), timings), options);
        if (detections.length === 0) return { image: sizeOf(source), faces: [], timings };
        const crops = await this.crops(detections.map(cropRequest), ladder, SHARPNESS_CROP, timings);
        const qualities = await timed(timings, 'quality', () => measureQualities(detections, crops, SHARPNESS_CROP));
        const faces = keepBySharpness(qualities, options).map((i) => ({ ...toDetectedFace(detections[i]), quality: qualities[i] }));
        return { image: sizeOf(source), faces, timings };
      }),
    );
  }

  async faces(input: ImageInput, options: PhotoOptions): Promise<PipelineResult<EmbeddedFace>> {
    const timings = emptyTimings();
    const source = await timed(timings, 'decode', () => SourceImage.open(input, this.settings.limits));
    const detected = await fullDecodes(() =>
      withLadder(source, timings, async (ladder) => {
        const detections = keepByPose(await detectFaces(this.engine, ladder, this.settings.detSize, this.detectorOptions(options), timings), options);
        const crops = await this.crops(detections.map(cropRequest), ladder, this.cropSize, timings);
        return { detections, crops };
      }),
    );
    const { detections, crops } = detected;
    if (detections.length === 0) return { image: sizeOf(source), faces: [], timings };
    // Measured before embedding, which may hand the crops' memory to a worker.
    const qualities = await timed(timings, 'quality', () => measureQualities(detections, crops, this.cropSize));
    const kept = keepBySharpness(qualities, options);
    const embeddings = await timed(timings, 'embed', () =>
      embedCrops(
        this.engine,
        kept.map((i) => crops[i]),
        this.settings.maxBatchSize,
      ),
    );
    const faces = kept.map((i, k) => ({ ...toDetectedFace(detections[i]), quality: qualities[i], embedding: embeddings[k] }));
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

    const { landmarks, crops } = await fullDecodes(() =>
      withLadder(source, timings, async (ladder) => {
        const landmarks = align ? await landmarksForBoxes(this.detector, ladder, regions, timings) : regions.map(() => null);
        const requests = regions.map((r, i) => (landmarks[i] ? { landmarks: landmarks[i] } : { box: r.box }));
        return { landmarks, crops: await this.crops(requests, ladder, this.cropSize, timings) };
      }),
    );
    const embeddings = await timed(timings, 'embed', () => embedCrops(this.engine, crops, this.settings.maxBatchSize));
    const faces = regions.map((r, i) => ({ box: r.box, aligned: landmarks[i] !== null, landmarks: landmarks[i], embedding: embeddings[i] }));
    return { image: sizeOf(source), faces, timings };
  }

  /** The detector keeps every face that passes its own knobs: max_faces is applied after the quality knobs. */
  private detectorOptions(options: PhotoOptions): DetectOptions {
    return { ...options, max_faces: undefined };
  }

  private get detector(): BoxDetector {
    return { engine: this.engine, detSize: this.settings.detSize };
  }

  /** The crops, their time counted as alignment (the ladder's decodes count as decode). */
  private async crops(requests: CropRequest[], ladder: DecodeLadder, size: { width: number; height: number }, timings: StageTimings) {
    const start = performance.now();
    const decodeBefore = ladder.ms;
    const crops = await cropFaces(requests, ladder, size);
    timings.align += performance.now() - start - (ladder.ms - decodeBefore);
    return crops;
  }

  get cropSize() {
    const { width, height } = this.engine.info.recognition;
    return { width, height };
  }
}

const cropRequest = (d: Detection): CropRequest => (d.landmarks ? { landmarks: d.landmarks } : { box: d.box });

function toDetectedFace(d: Detection): DetectedFace {
  // The constructor refused detectors without keypoint outputs.
  if (d.landmarks === null) throw new Error('an SCRFD detection without landmarks from a keypoint model');
  return { box: d.box, score: d.score, landmarks: d.landmarks };
}

/**
 * Work on the photo's pixels through one decode ladder, whose decodes are counted as decode time;
 * its pixels are dropped when the work is done (the crops are cut before embedding).
 */
async function withLadder<T>(source: SourceImage, timings: StageTimings, work: (ladder: DecodeLadder) => Promise<T>): Promise<T> {
  const ladder = new DecodeLadder(source);
  try {
    return await work(ladder);
  } finally {
    timings.decode += ladder.ms;
    ladder.release();
  }
}

const sizeOf = (source: SourceImage): ImageSize => ({ width: source.width, height: source.height });
