import type { EngineInfo, EngineStats } from '../engines/engine.js';
import type { FacePipeline } from './pipeline.js';

/** Runs the per-photo pipeline: photo workers for ONNX Runtime, or the pipeline over an RKNN engine. */
export interface PhotoRunner extends Pick<FacePipeline, 'detect' | 'faces' | 'embed'> {
  readonly info: EngineInfo;
  close(): Promise<void>;
  stats?(): EngineStats | undefined;
}

/** Whether the models are in memory, and how many times they were loaded (the first load counts). */
export interface LoadState {
  loaded: boolean;
  loads: number;
}
