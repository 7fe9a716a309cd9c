import type * as grpc from '@grpc/grpc-js';
import { LumenError } from '../src/errors.js';
import { ChunkError, Reassembler, type WholeRequest } from './chunks.js';
import { isServerFault, wireError } from './errors.js';
import type { GrpcHost } from './host.js';
import type { GrpcMetrics } from './metrics.js';
import type { InferRequest, InferResponse } from './protocol.js';
import { TASKS, type Task } from './tasks.js';

export type InferCall = grpc.ServerDuplexStream<InferRequest, InferResponse>;

const TASK_NAMES = TASKS.map((t) => t.name);

function findTask(name: string): Task {
  const task = TASKS.find((t) => t.name === name);
  if (task) return task;
  throw new LumenError('INVALID_PARAMETER', `task is invalid: expected one of ${TASK_NAMES.join(', ')}; received ${JSON.stringify(name)}`);
}

/**
 * One Infer stream. Chunks are reassembled as they come. Once a payload is whole it takes one of the
 * in-flight slots HTTP also uses, without waiting (no slot answers UNAVAILABLE), as an HTTP body does
 * once it has arrived: so the payloads held in memory are bounded across both protocols. It then waits
 * its turn in the stream's queue (at most `maxConcurrency` run at once). Every failure is answered in that request's
 * InferResponse.error and the stream goes on. When the client cancels, the queue is dropped and the
 * requests running are told to stop; when it half-closes, the stream ends once every answer is sent.
 */
export function serveInferStream(call: InferCall, host: GrpcHost, metrics: GrpcMetrics): void {
  const { limits } = host;
  const queue: { request: WholeRequest; release: () => void }[] = [];
  let running = 0;
  let ended = false;
  let gone = false;
  const abort = new AbortController();
  const chunks = new Reassembler(
    { maxPayloadBytes: limits.maxUploadBytes, maxPending: limits.maxQueued, maxPendingBytes: limits.maxUploadBytes * 2, idleMs: limits.chunkIdleMs },
    (error) => answerError(error.correlationId, '', error),
  );

  const send = (response: InferResponse) => {
    if (!gone) call.write(response);
  };

  function answerError(correlationId: string, task: string, err: unknown, started = performance.now()) {
    if (isServerFault(err)) host.log.error({ err, correlationId, task }, 'gRPC request failed');
    const error = wireError(err);
    metrics.answered(task, error.detail, started);
    send({ correlation_id: correlationId, is_final: true, meta: { processing_time_ms: elapsed(started) }, error });
  }

  function finishIfDone() {
    if (ended && running === 0 && queue.length === 0 && !gone) {
      gone = true;
      call.end();
    }
  }

  function pump() {
    while (!gone && running < limits.maxConcurrency && queue.length > 0) {
      const { request, release } = queue.shift()!;
      running++;
      void run(request).finally(() => {
        release();
        running--;
        pump();
        finishIfDone();
      });
    }
  }

  async function run(request: WholeRequest) {
    const started = performance.now();
    const id = request.correlationId;
    try {
      // Known: checked before it took a slot.
      const task = findTask(request.task);
      const answer = await task.run({ backend: host.backend(), payload: request.payload, meta: request.meta, signal: abort.signal });
      send({
        correlation_id: id,
        is_final: true,
        result: answer.result,
        result_mime: answer.mime,
        result_schema: answer.schema,
        meta: { ...answer.meta, processing_time_ms: elapsed(started) },
      });
      metrics.answered(task.name, 'OK', started, answer.outcome);
    } catch (err) {
      if (gone) return;
      answerError(id, TASK_NAMES.includes(request.task) ? request.task : 'unknown', err, started);
    }
  }

  call.on('data', (request: InferRequest) => {
    try {
      const whole = chunks.add(request);
      if (!whole) return;
      if (queue.length + running >= limits.maxConcurrency + limits.maxQueued) {
        throw new ChunkError(whole.correlationId, 'BUSY', `this stream already has ${limits.maxQueued} requests waiting; wait for answers before sending more`);
      }
      findTask(whole.task);
      const release = host.tryImageSlot();
      if (!release)
        throw new ChunkError(whole.correlationId, 'BUSY', 'the service is handling LUMEN_FACE_MAX_INFLIGHT images (HTTP and gRPC together); retry shortly');
      queue.push({ request: whole, release });
      pump();
    } catch (err) {
      const id = err instanceof ChunkError ? err.correlationId : request.correlation_id;
      answerError(id, TASK_NAMES.includes(request.task) ? request.task : 'unknown', err);
    }
  });

  call.on('end', () => {
    ended = true;
    for (const error of chunks.close()) answerError(error.correlationId, '', error);
    finishIfDone();
  });

  const drop = () => {
    if (gone) return;
    gone = true;
    for (const { release } of queue.splice(0)) release();
    chunks.clear();
    abort.abort(new LumenError('ABORTED', 'the client cancelled the stream'));
  };
  call.on('cancelled', drop);
  call.on('error', drop);
}

const elapsed = (started: number) => String(Math.round(performance.now() - started));
