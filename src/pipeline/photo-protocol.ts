import type { ErrorCode } from '../errors.js';
import type { ImageInput } from '../image/source.js';
import type { EngineInfo, ModelSetup } from './face-models.js';
import type { PhotoOptions } from './options.js';
import type { EmbedOptions, PipelineSettings } from './pipeline.js';

/** Messages between the photo pool (main thread) and its photo workers. */

export interface PhotoWorkerSetup {
  models: ModelSetup;
  pipeline: PipelineSettings;
  /** Added to the worker thread's nice value before its sessions start their threads. */
  inferenceNice: number;
  /** One Int32: set to 1 when the pool closes, so a long photo stops at its next model run. */
  stop?: SharedArrayBuffer;
  /** The channel the workers log on (see worker-log.ts). */
  logChannel?: string;
  /** One Int32: model runs started by every worker of the pool, for monitoring. */
  runs?: SharedArrayBuffer;
}

/** One Int32 per photo: set to 1 when its caller aborts, so the photo stops at its next model run. */
type Cancellable = { cancel?: SharedArrayBuffer };

export type PhotoTask =
  | { op: 'info' }
  | ({ op: 'detect' | 'faces'; input: ImageInput; options: PhotoOptions } & Cancellable)
  | ({ op: 'embed'; input: ImageInput; options: EmbedOptions } & Cancellable);

/** Errors cross the thread as data, so their code survives (a structured clone keeps only the message). */
export type PhotoReply<T> =
  | { ok: true; value: T }
  | { ok: false; code: ErrorCode | null; message: string; stack?: string /** The cause's message (a libvips error), for the log. */; cause?: string };

export type { EngineInfo };
