import { LumenError } from '../src/errors.js';
import type { InferRequest } from './protocol.js';

export interface ChunkLimits {
  /** Largest payload once reassembled (LUMEN_FACE_MAX_UPLOAD_BYTES). */
  maxPayloadBytes: number;
  /** Reassemblies a stream may have open at once. */
  maxPending: number;
  /** Bytes all of a stream's open reassemblies may hold together. */
  maxPendingBytes: number;
  /** Milliseconds a reassembly may wait for its next chunk. */
  idleMs: number;
}

/** A request whose payload is whole: the task, meta and mime come from its first chunk. */
export interface WholeRequest {
  correlationId: string;
  task: string;
  meta: Record<string, string>;
  payloadMime: string;
  payload: Buffer;
}

interface Pending {
  first: InferRequest;
  parts: Buffer[];
  bytes: number;
  next: number;
  total: number;
  timer: NodeJS.Timeout;
}

/** The correlation id the error belongs to travels with it, so the answer can name it. */
export class ChunkError extends LumenError {
  constructor(
    readonly correlationId: string,
    code: ConstructorParameters<typeof LumenError>[0],
    message: string,
  ) {
    super(code, message);
  }
}

/**
 * Reassembles one stream's chunked payloads (seq 0..total-1 under a correlation id, ids interleaved).
 * Everything a client can make it hold is bounded: the open reassemblies, their bytes, the chunk count
 * (a chunk carries at least one byte, so total cannot exceed the payload limit), and the wait for the
 * next chunk, after which `onExpired` hears of it and its bytes are let go.
 */
export class Reassembler {
  private readonly pending = new Map<string, Pending>();
  private pendingBytes = 0;
  /** Ids whose payload was refused midway, with its total: their later chunks are let go without another answer. */
  private readonly refused = new Map<string, number>();

  constructor(
    private readonly limits: ChunkLimits,
    private readonly onExpired: (error: ChunkError) => void,
  ) {}

  /** The whole request once its last chunk is in; undefined while chunks are still to come. */
  add(request: InferRequest): WholeRequest | undefined {
    const id = request.correlation_id;
    const total = request.total;
    const open = this.pending.get(id);
    if (!open && request.seq > 0 && this.refused.has(id)) {
      if (request.seq >= this.refused.get(id)! - 1) this.refused.delete(id);
      return undefined;
    }
    this.refused.delete(id);
    if (!open && total <= 1) {
      if (request.seq !== 0)
        throw new ChunkError(id, 'INVALID_PARAMETER', `seq is invalid: expected 0 for a payload sent whole (total ${total}); received ${request.seq}`);
      this.checkSize(id, request.payload.length);
      return whole(request, request.payload);
    }
    if (!open) return this.open(request);
    if (total !== 0 && total !== open.total) {
      this.drop(id);
      throw new ChunkError(id, 'INVALID_PARAMETER', `total is invalid: expected ${open.total}, as the first chunk of "${id}" said; received ${total}`);
    }
    if (request.seq !== open.next) {
      this.drop(id);
      throw new ChunkError(id, 'INVALID_PARAMETER', `seq is invalid: expected chunk ${open.next} of "${id}" (chunks come in order); received ${request.seq}`);
    }
    this.append(id, open, request.payload);
    if (open.next < open.total) return undefined;
    this.forget(id, open);
    return whole(open.first, Buffer.concat(open.parts, open.bytes));
  }

  /** Let every open reassembly go (the stream was cancelled). */
  clear(): void {
    for (const [id, open] of this.pending) this.forget(id, open);
    this.refused.clear();
  }

  /** The client half-closed: one error for each payload still missing chunks, which are let go. */
  close(): ChunkError[] {
    const errors = [...this.pending].map(
      ([id, open]) =>
        new ChunkError(id, 'INVALID_PARAMETER', `payload is incomplete: the stream ended after chunk ${open.next - 1} of ${open.total} for "${id}"`),
    );
    this.clear();
    return errors;
  }

  get size(): number {
    return this.pending.size;
  }

  private open(request: InferRequest): undefined {
    const id = request.correlation_id;
    const { maxPayloadBytes, maxPending } = this.limits;
    if (id === '')
      throw new ChunkError(id, 'INVALID_PARAMETER', 'correlation_id is invalid: expected a non-empty id on a chunked payload (total above 1); received ""');
    if (request.total > maxPayloadBytes) {
      throw new ChunkError(
        id,
        'UPLOAD_TOO_LARGE',
        `total is invalid: expected at most ${maxPayloadBytes} chunks (a chunk holds at least one byte of a payload of at most ${maxPayloadBytes} bytes, LUMEN_FACE_MAX_UPLOAD_BYTES); received ${request.total}`,
      );
    }
    if (request.seq !== 0) throw new ChunkError(id, 'INVALID_PARAMETER', `seq is invalid: expected 0 for the first chunk of "${id}"; received ${request.seq}`);
    if (this.pending.size >= maxPending) {
      throw new ChunkError(id, 'BUSY', `this stream already has ${maxPending} chunked payloads unfinished; finish one before starting "${id}"`);
    }
    const open: Pending = { first: request, parts: [], bytes: 0, next: 0, total: request.total, timer: this.expiry(id) };
    this.pending.set(id, open);
    this.append(id, open, request.payload);
    return undefined;
  }

  private append(id: string, open: Pending, chunk: Buffer): void {
    if (chunk.length === 0) {
      this.drop(id);
      throw new ChunkError(id, 'INVALID_PARAMETER', `payload is invalid: expected at least one byte in chunk ${open.next} of "${id}"; received none`);
    }
    this.checkSize(id, open.bytes + chunk.length);
    if (this.pendingBytes + chunk.length > this.limits.maxPendingBytes) {
      this.drop(id);
      throw new ChunkError(
        id,
        'BUSY',
        `this stream's unfinished chunked payloads would hold more than ${this.limits.maxPendingBytes} bytes; "${id}" is dropped`,
      );
    }
    open.parts.push(chunk);
    open.bytes += chunk.length;
    this.pendingBytes += chunk.length;
    open.next++;
    open.timer.refresh();
  }

  private checkSize(id: string, bytes: number): void {
    if (bytes <= this.limits.maxPayloadBytes) return;
    this.drop(id);
    throw new ChunkError(
      id,
      'UPLOAD_TOO_LARGE',
      `payload is too large: expected at most ${this.limits.maxPayloadBytes} bytes (LUMEN_FACE_MAX_UPLOAD_BYTES); received ${bytes} bytes so far for "${id}"`,
    );
  }

  private expiry(id: string): NodeJS.Timeout {
    const timer = setTimeout(() => {
      const open = this.pending.get(id);
      if (!open) return;
      this.drop(id);
      this.onExpired(
        new ChunkError(
          id,
          'REQUEST_TIMEOUT',
          `chunk ${open.next} of ${open.total} for "${id}" did not arrive within ${this.limits.idleMs / 1000} s (LUMEN_FACE_REQUEST_TIMEOUT); the chunks received are dropped`,
        ),
      );
    }, this.limits.idleMs);
    timer.unref();
    return timer;
  }

  /** Let a payload go midway: the answer is the error thrown; the chunks still to come are swallowed. */
  private drop(id: string): void {
    const open = this.pending.get(id);
    if (!open) return;
    this.forget(id, open);
    if (open.next >= open.total - 1) return;
    this.refused.set(id, open.total);
    // Bounded like the reassemblies: the oldest refusal is forgotten first.
    if (this.refused.size > this.limits.maxPending) this.refused.delete(this.refused.keys().next().value!);
  }

  private forget(id: string, open: Pending): void {
    clearTimeout(open.timer);
    this.pending.delete(id);
    this.pendingBytes -= open.bytes;
  }
}

function whole(first: InferRequest, payload: Buffer): WholeRequest {
  return { correlationId: first.correlation_id, task: first.task, meta: { ...first.meta }, payloadMime: first.payload_mime, payload };
}
