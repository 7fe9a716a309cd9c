import os from 'node:os';
import sharp from 'sharp';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { LumenError } from '../errors.js';
import { silentLogger } from '../types.js';
import { createOnnxEngine } from './onnx-engine.js';
import { FacePipeline, type PipelineResult } from './pipeline.js';
import type { PhotoReply, PhotoTask, PhotoWorkerSetup } from './photo-protocol.js';

/**
 * A photo worker: one per core, each with its own sessions, runs the whole per-photo pipeline
 * (decode, letterbox, detection, crops, embeddings, quality), so the pixels of a photo never cross
 * threads and the main thread is left to HTTP.
 */

const setup = workerData as PhotoWorkerSetup;

// Inference yields to the event loop: this thread, and the intra-op threads ONNX Runtime starts from
// it (Linux threads inherit their creator's nice value), run below the main thread's priority.
if (setup.inferenceNice > 0) {
  try {
    os.setPriority(Math.min(19, os.getPriority() + setup.inferenceNice)); // no pid: this thread only, on Linux
  } catch {
    /* not supported here: run at normal priority */
  }
}

// Parallelism comes from a photo per worker and a worker per core; libvips splitting each image over
// more threads only adds hand-offs (measured with `npm run bench -- throughput`).
sharp.concurrency(1);

const engine = await createOnnxEngine(setup.engine, silentLogger);
const pipeline = new FacePipeline(engine, setup.pipeline);

/** Hand the result back without copying its embeddings. */
function moved<T>(result: PipelineResult<T & { embedding?: Float32Array }>) {
  const buffers = [...new Set(result.faces.flatMap((f) => (f.embedding ? [f.embedding.buffer] : [])))];
  return move({ [transferableSymbol]: buffers, [valueSymbol]: { ok: true, value: result } } as never) as unknown as PhotoReply<unknown>;
}

export default async function handle(task: PhotoTask): Promise<PhotoReply<unknown>> {
  try {
    switch (task.op) {
      case 'info':
        return { ok: true, value: engine.info };
      case 'detect':
        return { ok: true, value: await pipeline.detect(task.input, task.options) };
      case 'faces':
        return moved(await pipeline.faces(task.input, task.options));
      case 'embed':
        return moved(await pipeline.embed(task.input, task.options));
    }
  } catch (err) {
    const e = err as Error;
    const cause = e.cause instanceof Error ? e.cause.message : undefined;
    return { ok: false, code: err instanceof LumenError ? err.code : null, message: e.message, stack: e.stack, cause };
  }
}
