import os from 'node:os';
import pLimit from 'p-limit';
import type { FaceModels } from './face-models.js';
import { type Detection, SCRFD_KEYPOINT_OUTPUT_COUNTS } from '../face/scrfd.js';
import { LumenError } from '../errors.js';
import type { ImageLimits } from '../image/limits.js';
import { type ImageInput, SourceImage } from '../image/source.js';
import type { Box, Landmarks } from '../types.js';
import { type BoxDetector, landmarksForBoxes } from './box-landmarks.js';
import { type BoxInput, type FaceRegion, normaliseBoxes } from './boxes.js';
import { cropFaces, type CropRequest, LevelDecoder } from './crop-plan.js';
import { detectFaces } from './detector.js';
import { type DetectOptions, type DetectOptionsInput, parseDetectOptions } from './options.js';
import { embedCrops } from './recognizer.js';
import { deferMaxFaces, keepByPose, keepBySharpness, measureQualities } from './quality.js';
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
      throw new LumenError('MODEL_LOAD_FAILED', `the detection model must be an SCRFD with five-point keypoints (${SCRFD_KEYPOINT_OUTPUT_COUNTS.join(' or ')} outputs); received ${outputs} outputs`);
    }
  }

  async detect(input: ImageInput, optionsInput: DetectOptionsInput = {}): Promise<PipelineResult<QualifiedFace>> {
    const timings = emptyTimings();
    const source = await timed(timings, 'decode', () => SourceImage.open(input, this.settings.limits));
    const options = this.detectOptions(optionsInput);
    const detections = keepByPose(await detectFaces(this.engine, source, this.settings.detSize, this.detectorOptions(options), timings), options);
    if (detections.length === 0) return { image: sizeOf(source), faces: [], timings };
    const qualities = await fullDecodes(async () => {
      const decoder = new LevelDecoder(source, timings);
      const crops = await cropFaces(detections.map(cropRequest), decoder, SHARPNESS_CROP, timings);
      decoder.release();
      return timed(timings, 'quality', () => measureQualities(detections, crops, SHARPNESS_CROP));
    });
    const faces = keepBySharpness(qualities, options).map((i) => ({ ...toDetectedFace(detections[i]), quality: qualities[i] }));
    return { image: sizeOf(source), faces, timings };
  }

  async faces(input: ImageInput, optionsInput: DetectOptionsInput = {}): Promise<PipelineResult<EmbeddedFace>> {
    const timings = emptyTimings();
    const source = await timed(timings, 'decode', () => SourceImage.open(input, this.settings.limits));
    const options = this.detectOptions(optionsInput);
    const detections = keepByPose(await detectFaces(this.engine, source, this.settings.detSize, this.detectorOptions(options), timings), options);
    if (detections.length === 0) return { image: sizeOf(source), faces: [], timings };

    const faces = await fullDecodes(async () => {
      const decoder = new LevelDecoder(source, timings);
      const crops = await cropFaces(detections.map(cropRequest), decoder, this.cropSize, timings);
      decoder.release();
      // Measured before embedding, which may hand the crops' memory to a worker.
      const qualities = await timed(timings, 'quality', () => measureQualities(detections, crops, this.cropSize));
      const kept = keepBySharpness(qualities, options);
      const embeddings = await timed(timings, 'embed', () => embedCrops(this.engine, kept.map((i) => crops[i]), this.settings.maxBatchSize));
      return kept.map((i, k) => ({ ...toDetectedFace(detections[i]), quality: qualities[i], embedding: embeddings[k] }));
    });
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
      const decoder = new LevelDecoder(source, timings);
      const landmarks = align ? await landmarksForBoxes(this.detector, source, decoder, regions, timings) : regions.map(() => null);
      const requests = regions.map((r, i) => (landmarks[i] ? { landmarks: landmarks[i] } : { box: r.box }));
      const crops = await cropFaces(requests, decoder, this.cropSize, timings);
      decoder.release();
      const embeddings = await timed(timings, 'embed', () => embedCrops(this.engine, crops, this.settings.maxBatchSize));
      return regions.map((r, i) => ({ box: r.box, aligned: landmarks[i] !== null, landmarks: landmarks[i], embedding: embeddings[i] }));
    });
    return { image: sizeOf(source), faces, timings };
  }

  /** The caller's knobs, with max_faces never above LUMEN_FACE_MAX_FACES: a query cannot multiply the work. */
  private detectOptions(options: DetectOptionsInput): DetectOptions {
    const parsed = parseDetectOptions(options);
    return { ...parsed, max_faces: Math.min(parsed.max_faces ?? Infinity, this.settings.maxFaces) };
  }

  /** What the detector keeps: max_faces waits for the quality knobs, but LUMEN_FACE_MAX_FACES always holds. */
  private detectorOptions(options: DetectOptions): DetectOptions {
    const deferred = deferMaxFaces(options);
    return { ...deferred, max_faces: Math.min(deferred.max_faces ?? Infinity, this.settings.maxFaces) };
  }

  private get detector(): BoxDetector {
    return { engine: this.engine, detSize: this.settings.detSize, limits: this.settings.limits };
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

const sizeOf = (source: SourceImage): ImageSize => ({ width: source.width, height: source.height });
