import { randomUUID } from 'node:crypto';
import { Piscina } from 'piscina';
import type { EngineStats } from '../engines/engine.js';
import type { EngineInfo } from './face-models.js';
import { abortError, LumenError } from '../errors.js';
import { silentLogger, type HandedOverBytes, type Logger, type PhotoInput, type RunControl } from '../types.js';
import { receiveWorkerLogs } from './worker-log.js';
import { isRgbImage, type ImageInput } from '../image/source.js';
import { plainBoxes } from './boxes.js';
import { guardPool, type PoolGuard } from './pool-guard.js';
import { type DetectOptionsInput, photoOptions } from './options.js';
import type { EmbedOptions, EmbeddedBox, EmbeddedFace, PipelineResult, QualifiedFace } from './pipeline.js';
import type { PhotoReply, PhotoTask, PhotoWorkerSetup } from './photo-protocol.js';

/**
 * Photos in flight per worker: while one waits for a model run or sharp, the next is decoding, so a
 * core never idles between photos; two bound the pixels a worker holds.
 */
const PHOTOS_PER_WORKER = 2;

/**
 * The per-photo pipeline on a pool of photo workers, one per core (see photo-worker.ts).
 *
 * Photos wait here, not in Piscina's queue, until a worker has room: a waiting photo whose caller
 * aborts is dropped before it reaches a worker. Piscina's own `signal` is never used, because for a
 * running task it terminates the thread, and that aborts the process inside ONNX Runtime; a running
 * photo is told to stop through its own shared flag instead, checked before every model run.
 */
export class PhotoPool {
  private readonly waiting: Array<{ admit: () => void; refuse: (err: Error) => void }> = [];
  private admitted = 0;
  /** Tasks inside the workers, aborted ones included until they reach their next model run. */
  private inWorkers = 0;
  private closing = false;

  private constructor(
    private readonly pool: Piscina<PhotoTask, PhotoReply<unknown>>,
    private readonly guard: PoolGuard,
    private readonly stop: Int32Array,
    private readonly runs: Int32Array,
    readonly info: EngineInfo,
    private readonly maxBoxes: number,
    private readonly maxFaces: number,
    private readonly capacity: number,
    private readonly logs: { close(): void },
  ) {}

  /** `log` receives the workers' lines (model loading, rknn_perf_debug's NPU times...). */
  static async start(settings: PhotoWorkerSetup, workers: number, log: Logger = silentLogger): Promise<PhotoPool> {
    const stop = new SharedArrayBuffer(4);
    const runs = new SharedArrayBuffer(4);
    const logChannel = `lumen-face-photo-workers-${randomUUID()}`;
    const logs = receiveWorkerLogs(logChannel, log);
    const setup: PhotoWorkerSetup = { ...settings, stop, runs, logChannel };
    const pool = new Piscina<PhotoTask, PhotoReply<unknown>>({
      filename: new URL('./photo-worker.js', import.meta.url).href,
      minThreads: workers,
      maxThreads: workers,
      concurrentTasksPerWorker: PHOTOS_PER_WORKER,
      idleTimeout: Number.POSITIVE_INFINITY,
      workerData: setup,
      // The close waits for the photos in flight, which stop at their next model run (see photo-worker.ts).
      closeTimeout: 120_000,
    });
    const guard = guardPool(pool);
    try {
      // One task per worker, so every worker has opened and warmed its sessions before we report ready.
      const infos = await guard.all(Array.from({ length: workers }, () => pool.run({ op: 'info' }).then(unwrap<EngineInfo>)));
      const info = { ...infos[0], details: { ...infos[0].details, workers, photosPerWorker: PHOTOS_PER_WORKER } };
      return new PhotoPool(
        pool,
        guard,
        new Int32Array(stop),
        new Int32Array(runs),
        info,
        setup.pipeline.maxBoxes,
        setup.pipeline.maxFaces,
        workers * PHOTOS_PER_WORKER,
        logs,
      );
    } catch (err) {
      Atomics.store(new Int32Array(stop), 0, 1);
      await guard.close();
      logs.close();
      if (err instanceof LumenError) throw err;
      throw new LumenError('MODEL_LOAD_FAILED', `the photo workers could not load the pack: ${(err as Error).message}`, { cause: err });
    }
  }

  async detect(input: PhotoInput, options: DetectOptionsInput = {}, control?: RunControl): Promise<PipelineResult<QualifiedFace>> {
    return this.run({ op: 'detect', input, options: photoOptions(options, this.maxFaces) }, control);
  }

  async faces(input: PhotoInput, options: DetectOptionsInput = {}, control?: RunControl): Promise<PipelineResult<EmbeddedFace>> {
    return this.run({ op: 'faces', input, options: photoOptions(options, this.maxFaces) }, control);
  }

  async embed(input: PhotoInput, options: EmbedOptions = {}, control?: RunControl): Promise<PipelineResult<EmbeddedBox>> {
    const boxes = options.boxes == null ? options.boxes : plainBoxes(options.boxes, this.maxBoxes);
    return this.run({ op: 'embed', input, options: { ...options, boxes } }, control);
  }

  stats(): EngineStats {
    return {
      workers: this.pool.threads.length,
      utilization: this.pool.utilization,
      queued: this.waiting.length + this.pool.queueSize,
      running: this.inWorkers,
      modelRuns: Atomics.load(this.runs, 0),
    };
  }

  /** Ends the workers once no photo is inside a model run (see pool-guard.ts): never mid-run. */
  close(): Promise<void> {
    this.closing = true;
    Atomics.store(this.stop, 0, 1);
    for (const { refuse } of this.waiting.splice(0)) refuse(shuttingDown());
    return this.guard.close().finally(() => this.logs.close());
  }

  private async run<T>(task: PhotoRequest, { signal }: RunControl = {}): Promise<T> {
    if (signal?.aborted) throw abortError(signal);
    await this.admit(signal);
    const cancel = new SharedArrayBuffer(4);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.leave();
    };
    let running: Promise<PhotoReply<unknown>>;
    try {
      const { input, transferList } = sendable(task.input);
      running = this.pool.run({ ...task, input, cancel } as PhotoTask, { transferList });
    } catch (err) {
      release();
      throw err;
    }
    this.inWorkers++;
    const settled = running.finally(() => {
      this.inWorkers--;
      release();
    });
    if (!signal) return unwrap<T>(await settled);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => {
        // The worker stops the photo at its next model run; its slot here is free already.
        Atomics.store(new Int32Array(cancel), 0, 1);
        release();
        reject(abortError(signal));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      settled.then(
        (reply) => {
          signal.removeEventListener('abort', onAbort);
          try {
            resolve(unwrap<T>(reply));
          } catch (err) {
            reject(err);
          }
        },
        (err: unknown) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      );
    });
  }

  /** Waits for room in the workers; a caller that aborts meanwhile leaves the line without reaching one. */
  private admit(signal: AbortSignal | undefined): Promise<void> {
    if (this.closing) return Promise.reject(shuttingDown());
    if (this.admitted < this.capacity && this.waiting.length === 0) {
      this.admitted++;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const at = this.waiting.indexOf(entry);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(abortError(signal!));
      };
      const entry = {
        admit: () => {
          signal?.removeEventListener('abort', onAbort);
          this.admitted++;
          resolve();
        },
        refuse: (err: Error) => {
          signal?.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.waiting.push(entry);
    });
  }

  private leave(): void {
    this.admitted--;
    this.waiting.shift()?.admit();
  }
}

/** A photo task as the pool's callers give it: its input may be handed over. */
type PhotoRequest = Omit<Exclude<PhotoTask, { op: 'info' }>, 'input'> & { input: PhotoInput };

const shuttingDown = () => new LumenError('SHUTTING_DOWN', 'the service is shutting down; retry on another instance');

function unwrap<T>(reply: PhotoReply<unknown>): T {
  if (reply.ok) return reply.value as T;
  const cause = reply.cause === undefined ? undefined : new Error(reply.cause);
  if (reply.code) throw new LumenError(reply.code, reply.message, { cause });
  const err = new Error(reply.message);
  if (reply.stack) err.stack = reply.stack;
  throw err;
}

const ownsWholeBuffer = (data: Uint8Array) => data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;

const isHandedOver = (input: PhotoInput): input is HandedOverBytes => 'handOver' in input && input.handOver === true;

/**
 * The photo moves to the worker: handed-over bytes as they are, anything else as a copy the worker
 * owns, so a caller's buffer is never detached behind its back (a library user may reuse it).
 */
function sendable(input: PhotoInput): { input: ImageInput; transferList: ArrayBuffer[] } {
  if (isHandedOver(input)) {
    const data = ownsWholeBuffer(input.bytes) ? input.bytes : new Uint8Array(input.bytes);
    return { input: data, transferList: [data.buffer as ArrayBuffer] };
  }
  const data = new Uint8Array(isRgbImage(input) ? input.data : input);
  return { input: isRgbImage(input) ? { ...input, data } : data, transferList: [data.buffer] };
}
