import type { Runtime } from '../models/names.js';
import type { RgbImage, Tensor } from '../types.js';

export interface EngineInfo {
  runtime: Runtime;
  device: string;
  /** onnxrt: execution providers actually in use. rknn: ['rknpu']. */
  providers: string[];
  /** Recognition input size the crops must have. */
  recognition: { width: number; height: number; dim: number; batch: 'dynamic' | number };
  /** The detector's output count, which tells its SCRFD layout (keypoints or not). */
  detection: {
    outputs: number;
    /** The graph takes any input height and width (a multiple of 32); false or absent: only detSize x detSize. */
    anyShape?: boolean;
  };
  /** Runtime-specific details (SDK versions, core mask, thread counts...). */
  details: Record<string, unknown>;
}

/** A model input or output as the graph declares it; null for a dynamic dimension. */
export interface TensorMeta {
  name: string;
  dims: readonly (number | null)[];
}

/**
 * One model on one runtime, as plain tensors: what the graph declares, and run(feeds), which
 * returns every output in declared order. It knows nothing of faces; the model families in
 * src/face say how to feed and read it.
 */
export interface TensorSession {
  readonly inputs: readonly TensorMeta[];
  readonly outputs: readonly TensorMeta[];
  run(feeds: Record<string, Tensor>): Promise<Tensor[]>;
  release(): Promise<void>;
}

/** How busy an engine's workers are, for monitoring. */
export interface EngineStats {
  workers: number;
  /** Share of the workers' capacity spent running models since start, 0 to 1. */
  utilization: number;
  /** Runs waiting for a free worker. */
  queued: number;
}

/**
 * A runtime that can run the two models of a pack. It knows nothing of faces:
 * it takes RGB pixels, does the model's own normalisation and layout, and returns raw outputs.
 * Detection decoding, alignment, batching and L2 normalisation are the pipeline's job.
 */
export interface InferenceEngine {
  readonly info: EngineInfo;
  /**
   * Run the detector on a letterboxed RGB image: detection size square, or any multiple of 32 on each side when
   * `info.detection.anyShape`.
   * The engine normalises `(x - 127.5) / 128` (or feeds bytes when the model has it baked in).
   * Ownership of `image.data` passes to the engine (it may be transferred to a worker).
   */
  detect(image: RgbImage): Promise<Tensor[]>;
  /**
   * Embed `count` RGB crops of recognition.width x recognition.height, packed back to back (HWC each).
   * `count` never exceeds the batch limit in `info.recognition.batch`.
   * Returns the raw (not normalised) embeddings, `count * dim` floats.
   * Ownership of `crops` passes to the engine.
   */
  embed(crops: Uint8Array, count: number): Promise<Float32Array>;
  close(): Promise<void>;
  /** Worker statistics, for engines that have a pool of workers. */
  stats?(): EngineStats;
}
