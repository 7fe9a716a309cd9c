import type { Tensor } from '../types.js';

/**
 * A model input or output as the graph declares it; null for a dynamic dimension. An image input also
 * says how it wants its pixels, so whoever feeds it (the model family) builds them once, in that form.
 */
export interface TensorMeta {
  name: string;
  dims: readonly (number | null)[];
  /**
   * float32: values the feeder has normalised; uint8: raw pixel values, the graph normalising them
   * itself (mean and std baked in at conversion). Absent on outputs.
   */
  type?: 'float32' | 'uint8';
  /** Where the channels of a 4-D image input are: NCHW unless the graph says NHWC. */
  layout?: 'NCHW' | 'NHWC';
}

/** What is fed to an input: float32 or uint8 values as its TensorMeta asks, in its layout. */
export interface Feed {
  data: Float32Array | Uint8Array;
  dims: readonly number[];
}

/**
 * One model on one runtime, as plain tensors: what the graph declares, and run(feeds), which
 * returns every output in declared order. It knows nothing of faces; the model families in
 * src/face say how to feed and read it.
 */
export interface TensorSession {
  readonly inputs: readonly TensorMeta[];
  readonly outputs: readonly TensorMeta[];
  /** What /v1/info tells about this session on its runtime (providers, SDK, input format...). */
  readonly details: Record<string, unknown>;
  run(feeds: Record<string, Feed>): Promise<Tensor[]>;
  release(): Promise<void>;
}

/** How busy the photo workers are, for monitoring. */
export interface EngineStats {
  workers: number;
  /** Share of the workers' capacity spent running photos since start, 0 to 1. */
  utilization: number;
  /** Photos waiting for room in a worker. */
  queued: number;
  /** Photos inside the workers (a cancelled one counts until it reaches its next model run). */
  running?: number;
  /** Model runs started since the models loaded. */
  modelRuns?: number;
}
