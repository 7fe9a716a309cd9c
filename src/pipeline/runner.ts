import type { EngineStats } from '../engines/engine.js';
import type { EngineInfo } from './face-models.js';
import type { ImageInput } from '../image/source.js';
import type { RunControl } from '../types.js';
import type { DetectOptionsInput } from './options.js';
import type { EmbedOptions, EmbeddedBox, EmbeddedFace, PipelineResult, QualifiedFace } from './pipeline.js';

/** Runs the per-photo pipeline: photo workers for ONNX Runtime, or the pipeline over an RKNN engine. */
export interface PhotoRunner {
  detect(input: ImageInput, options?: DetectOptionsInput, control?: RunControl): Promise<PipelineResult<QualifiedFace>>;
  faces(input: ImageInput, options?: DetectOptionsInput, control?: RunControl): Promise<PipelineResult<EmbeddedFace>>;
  embed(input: ImageInput, options?: EmbedOptions, control?: RunControl): Promise<PipelineResult<EmbeddedBox>>;
  readonly info: EngineInfo;
  close(): Promise<void>;
  stats?(): EngineStats | undefined;
}

/** Whether the models are in memory, and how many times they were loaded (the first load counts). */
export interface LoadState {
  loaded: boolean;
  loads: number;
}
