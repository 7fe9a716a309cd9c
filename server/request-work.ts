import type { ServerResponse } from 'node:http';
import { LumenError } from '../src/errors.js';

/**
 * The life of one request's work, for any protocol layer (HTTP routes, gRPC): one abort signal that
 * fires when the client goes away or the request's budget is spent, and a count of the photos done,
 * for the one log line an abandoned request gets. The backend stops on the signal (photos not started
 * are dropped, the one in progress stops at its next model run) and rejects with its reason.
 */
export class RequestWork {
  readonly #controller = new AbortController();
  readonly #timer: NodeJS.Timeout;
  photosDone = 0;

  constructor(readonly photos: number, budgetSeconds: number) {
    this.#timer = setTimeout(() => this.abort(new LumenError('BUDGET_EXCEEDED',
      `the request needed more than ${budgetSeconds} s of work (LUMEN_FACE_REQUEST_BUDGET); send fewer or smaller photos, or raise min_score`)), budgetSeconds * 1000);
    this.#timer.unref();
  }

  /** What the backend methods take as their last argument. */
  get control(): { signal: AbortSignal } {
    return { signal: this.#controller.signal };
  }

  get aborted(): LumenError | undefined {
    return this.#controller.signal.aborted ? (this.#controller.signal.reason as LumenError) : undefined;
  }

  /** The client closed its connection before the answer: nobody will read the work's result. */
  clientGone(): void {
    this.abort(new LumenError('ABORTED', 'the client closed the connection before the answer was sent'));
  }

  abort(reason: LumenError): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** Count a photo's work once it has finished. */
  async photo<T>(work: Promise<T>): Promise<T> {
    const result = await work;
    this.photosDone++;
    return result;
  }

  end(): void {
    clearTimeout(this.#timer);
  }
}

/** Abort `work` when `res` closes before its answer was sent (the client went away). */
export function abortWhenClientGoes(res: ServerResponse, work: RequestWork): void {
  // The client may have gone while its body was being read, before the work existed.
  if (!res.writableFinished && (res.closed || !res.socket || res.socket.destroyed)) {
    work.clientGone();
    return;
  }
  res.once('close', () => {
    if (!res.writableFinished) work.clientGone();
  });
}
