import os from 'node:os';
import sharp from 'sharp';
import { move, transferableSymbol, valueSymbol, workerData } from 'piscina';
import { LumenError } from '../errors.js';
import { silentLogger } from '../types.js';
import { workerLogger } from './worker-log.js';
import { type FaceModels, openFaceModels } from './face-models.js';
import { FacePipeline, type PipelineResult } from './pipeline.js';
import type { PhotoReply, PhotoTask, PhotoWorkerSetup } from './photo-protocol.js';

/**
 * A photo worker: one per core, each with its own sessions, runs the whole per-photo pipeline
 * (decode, letterbox, detection, crops, embeddings, quality), so the pixels of a photo never cross
 * threads and the main thread is left to HTTP. Both runtimes run here: ONNX Runtime, and the RKNN addon,
 * which keeps per-environment instance data, so each worker loads it and opens its own NPU contexts.
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

// Parallelism comes from a photo per worker and a worker per core, so libvips need not split an image
// over more threads (which would only add hand-offs); the work floor the benchmark compares with does the same.
sharp.concurrency(1);

const engine = await openFaceModels(setup.models, setup.logChannel ? workerLogger(setup.logChannel) : silentLogger);
// Each photo gets a pipeline of its own (see handle); this first one refuses, before the pool reports
// ready, a pack the pipeline cannot serve (a detector without keypoints).
new FacePipeline(engine, setup.pipeline);
const closing = new Int32Array(setup.stop ?? new SharedArrayBuffer(4));
const modelRuns = new Int32Array(setup.runs ?? new SharedArrayBuffer(4));

/**
 * This photo's view of the models: it refuses new model runs once the pool closes or the photo's
 * caller aborts. A photo can hold hundreds of runs (256 boxes on a 12 MP photo); ending a thread
 * inside ONNX Runtime aborts the process, so a closing pool, or an abandoned photo, makes them stop
 * at their next run instead.
 *
 * It also counts the photo's runs in progress: a failed photo can end while sibling runs it started
 * are still inside the runtime (one of several concurrent runs threw); its task waits for them, so a
 * finished task never leaves a run behind for the pool's close to cut short.
 */
function stoppable(inner: FaceModels, cancel: Int32Array | undefined): { models: FaceModels; runsSettled(): Promise<void> } {
  let running = 0;
  const whenIdle: Array<() => void> = [];
  const tracked = <T>(run: Promise<T>): Promise<T> => {
    running++;
    return run.finally(() => {
      if (--running === 0) for (const resolve of whenIdle.splice(0)) resolve();
    });
  };
  const check = () => {
    if (Atomics.load(closing, 0) === 1) throw new LumenError('SHUTTING_DOWN', 'the service is shutting down; retry on another instance');
    if (cancel && Atomics.load(cancel, 0) === 1) throw cancelled();
    Atomics.add(modelRuns, 0, 1);
  };
  return {
    models: {
      ...inner,
      detect: (image) => {
        check();
        return tracked(inner.detect(image));
      },
      embed: (crops, count) => {
        check();
        return tracked(inner.embed(crops, count));
      },
    },
    runsSettled: () => (running === 0 ? Promise.resolve() : new Promise<void>((resolve) => whenIdle.push(resolve))),
  };
}

const cancelled = () => new LumenError('ABORTED', 'the photo was cancelled by its caller');

/** Hand the result back without copying its embeddings. */
function moved<T>(result: PipelineResult<T & { embedding?: Float32Array }>) {
  const buffers = [...new Set(result.faces.flatMap((f) => (f.embedding ? [f.embedding.buffer] : [])))];
  return move({ [transferableSymbol]: buffers, [valueSymbol]: { ok: true, value: result } } as never) as unknown as PhotoReply<unknown>;
}

export default async function handle(task: PhotoTask): Promise<PhotoReply<unknown>> {
  if (task.op === 'info') return { ok: true, value: engine.info };
  const cancel = task.cancel && new Int32Array(task.cancel);
  const photo = stoppable(engine, cancel);
  try {
    if (cancel && Atomics.load(cancel, 0) === 1) throw cancelled();
    const pipeline = new FacePipeline(photo.models, setup.pipeline);
    switch (task.op) {
      case 'detect':
        return { ok: true, value: await pipeline.detect(task.input, task.options) };
      case 'faces':
        return moved(await pipeline.faces(task.input, task.options));
      case 'embed':
        return moved(await pipeline.embed(task.input, task.options));
    }
  } catch (err) {
    await photo.runsSettled();
    const e = err as Error;
    const cause = e.cause instanceof Error ? e.cause.message : undefined;
    return { ok: false, code: err instanceof LumenError ? err.code : null, message: e.message, stack: e.stack, cause };
  }
}
