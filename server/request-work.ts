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

  /** `route` names the work in the one line a shutdown logs for what it cut. */
  constructor(
    readonly photos: number,
    budgetSeconds: number,
    readonly route = 'unnamed',
  ) {
    running.add(this);
    this.#timer = setTimeout(
      () =>
        this.abort(
          new LumenError(
            'BUDGET_EXCEEDED',
            `the request needed more than ${budgetSeconds} s of work (LUMEN_FACE_REQUEST_BUDGET); send fewer or smaller photos, or raise min_score`,
          ),
        ),
      budgetSeconds * 1000,
    );
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
    running.delete(this);
  }
}

/** Work not yet ended, so a shutdown can stop it and say what it cut. */
const running = new Set<RequestWork>();

/** What a shutdown cut: the requests still at work, by route, and their photos done and not done. */
export interface CutWork {
  requests: number;
  photosDone: number;
  photosSkipped: number;
  routes: Record<string, number>;
}

/**
 * Stop all running work for a shutdown (each request then fails as SHUTTING_DOWN, once, not per photo),
 * and say what was cut: the one log line of a shutdown that did not wait for it.
 */
export function cutAllWork(): CutWork {
  const cut: CutWork = { requests: 0, photosDone: 0, photosSkipped: 0, routes: {} };
  for (const work of running) {
    if (work.aborted) continue;
    cut.requests++;
    cut.photosDone += work.photosDone;
    cut.photosSkipped += work.photos - work.photosDone;
    cut.routes[work.route] = (cut.routes[work.route] ?? 0) + 1;
    work.abort(new LumenError('SHUTTING_DOWN', "the server is shutting down and stopped this request's work; retry on another instance"));
  }
  return cut;
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
