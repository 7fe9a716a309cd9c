import { Piscina } from 'piscina';
import type { EngineInfo, EngineStats } from '../engines/engine.js';
import { LumenError } from '../errors.js';
import { isRgbImage, type ImageInput } from '../image/source.js';
import { plainBoxes } from './boxes.js';
import { guardPool, type PoolGuard } from './pool-guard.js';
import type { DetectOptionsInput } from './options.js';
import type { EmbedOptions, EmbeddedBox, EmbeddedFace, PipelineResult, QualifiedFace } from './pipeline.js';
import type { PhotoReply, PhotoTask, PhotoWorkerSetup } from './photo-protocol.js';

/**
 * Photos in flight per worker: while one waits for a model run or sharp, the next is decoding, so a
 * core never idles between photos; two bound the pixels a worker holds.
 */
const PHOTOS_PER_WORKER = 2;

/** The per-photo pipeline on a pool of photo workers, one per core (see photo-worker.ts). */
export class PhotoPool {
  private constructor(
    private readonly pool: Piscina<PhotoTask, PhotoReply<unknown>>,
    private readonly guard: PoolGuard,
    private readonly stop: Int32Array,
    readonly info: EngineInfo,
    private readonly maxBoxes: number,
  ) {}

  static async start(settings: PhotoWorkerSetup, workers: number): Promise<PhotoPool> {
    const stop = new SharedArrayBuffer(4);
    const setup: PhotoWorkerSetup = { ...settings, stop };
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
      return new PhotoPool(pool, guard, new Int32Array(stop), info, setup.pipeline.maxBoxes);
    } catch (err) {
      Atomics.store(new Int32Array(stop), 0, 1);
      await guard.close();
      if (err instanceof LumenError) throw err;
      throw new LumenError('MODEL_LOAD_FAILED', `ONNX Runtime could not load the pack: ${(err as Error).message}`, { cause: err });
    }
  }

  detect(input: ImageInput, options: DetectOptionsInput = {}): Promise<PipelineResult<QualifiedFace>> {
    return this.run({ op: 'detect', input, options });
  }

  faces(input: ImageInput, options: DetectOptionsInput = {}): Promise<PipelineResult<EmbeddedFace>> {
    return this.run({ op: 'faces', input, options });
  }

  async embed(input: ImageInput, options: EmbedOptions = {}): Promise<PipelineResult<EmbeddedBox>> {
    const boxes = options.boxes == null ? options.boxes : plainBoxes(options.boxes, this.maxBoxes);
    return this.run({ op: 'embed', input, options: { ...options, boxes } });
  }

  stats(): EngineStats {
    return { workers: this.pool.threads.length, utilization: this.pool.utilization, queued: this.pool.queueSize };
  }

  /** Ends the workers once no photo is inside a model run (see pool-guard.ts): never mid-run. */
  close(): Promise<void> {
    Atomics.store(this.stop, 0, 1);
    return this.guard.close();
  }

  private async run<T>(task: Exclude<PhotoTask, { op: 'info' }>): Promise<T> {
    const { input, transferList } = sendable(task.input);
    return unwrap<T>(await this.pool.run({ ...task, input } as PhotoTask, { transferList }));
  }
}

function unwrap<T>(reply: PhotoReply<unknown>): T {
  if (reply.ok) return reply.value as T;
  const cause = reply.cause === undefined ? undefined : new Error(reply.cause);
  if (reply.code) throw new LumenError(reply.code, reply.message, { cause });
  const err = new Error(reply.message);
  if (reply.stack) err.stack = reply.stack;
  throw err;
}

/** Buffers whose owner has handed them over: they move to a worker without a copy. */
const handedOver = new WeakSet<ArrayBufferLike>();

/**
 * Give up these bytes: the photo pool may move their buffer to a worker, which detaches every view
 * of it. The HTTP routes hand over the uploads they read; for a 100 MP upload that saves a copy of
 * 85 MB. Bytes that share their buffer with other data are still copied.
 */
export function handOver<T extends Uint8Array>(bytes: T): T {
  if (ownsWholeBuffer(bytes)) handedOver.add(bytes.buffer);
  return bytes;
}

const ownsWholeBuffer = (data: Uint8Array) =>
  data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer;

/**
 * The photo moves to the worker: handed-over bytes as they are, anything else as a copy the worker
 * owns, so a caller's buffer is never detached behind its back (a library user may reuse it).
 */
function sendable(input: ImageInput): { input: ImageInput; transferList: ArrayBuffer[] } {
  const given = isRgbImage(input) ? input.data : input;
  const data = handedOver.has(given.buffer) && ownsWholeBuffer(given) ? given : new Uint8Array(given);
  return { input: isRgbImage(input) ? { ...input, data } : data, transferList: [data.buffer as ArrayBuffer] };
}
