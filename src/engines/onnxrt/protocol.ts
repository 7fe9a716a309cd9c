/** Messages between the onnxrt engine and its worker threads. */

export interface WorkerSetup {
  detectionPath: string;
  recognitionPath: string;
  /** Execution providers to try in order, e.g. [{name: 'cuda', deviceId: 0}, 'cpu']. */
  providers: ({ name: string; deviceId?: number } | string)[];
  intraOpThreads: number;
  /** Added to the worker thread's nice value before its sessions start their threads. */
  inferenceNice: number;
}

export type WorkerTask =
  | { kind: 'describe' }
  | { kind: 'detect'; pixels: Uint8Array; width: number; height: number }
  | { kind: 'embed'; pixels: Uint8Array; count: number; width: number; height: number; batch: number | 'dynamic' };

export interface TensorShape {
  name: string;
  /** Static sizes; null for a dynamic (symbolic or unknown) dimension. */
  shape: readonly (number | null)[];
}

export interface WorkerDescription {
  detection: { inputs: TensorShape[]; outputs: TensorShape[] };
  recognition: { inputs: TensorShape[]; outputs: TensorShape[] };
  providers: string[];
  /** Why the requested accelerator was not used, when the worker fell back to CPU. */
  providerFallback?: string;
}

/** Outputs packed into one transferable buffer: output i is data[offsets[i], offsets[i+1]). */
export interface PackedOutputs {
  data: Float32Array;
  offsets: number[];
  dims: number[][];
}
