import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Run an image request's work in one of LUMEN_FACE_MAX_INFLIGHT slots, or answer 503 BUSY at once.
     * Routes call it once the body has fully arrived (routes/image-route.ts), so an upload in progress
     * holds no slot. The slot is held until the work ends, even if the client has gone.
     */
    withImageSlot<T>(work: () => Promise<T>): Promise<T>;
    /**
     * Take one more slot if one is free, without waiting: its release function, or undefined. A batch
     * request uses this for each image it processes beside the one its own slot covers.
     */
    tryImageSlot(): (() => void) | undefined;
  }
}

/**
 * Each image being processed holds an upload of up to LUMEN_FACE_MAX_UPLOAD_BYTES plus decoded pixels,
 * so an unbounded flood would exhaust memory. Uploads still arriving are bounded by the socket timeouts
 * (plugins/connections.ts), not by these slots. Nothing ever waits for a slot: a request without one gets 503,
 * and a batch without a spare slot carries on with the one it holds. So no request can deadlock waiting
 * on another.
 */
export default fp<{ maxInflight: number }>(async function inflightPlugin(app: FastifyInstance, opts) {
  let inflight = 0;

  function tryImageSlot(): (() => void) | undefined {
    if (inflight >= opts.maxInflight) return undefined;
    inflight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      inflight--;
    };
  }

  app.decorate('tryImageSlot', tryImageSlot);
  app.decorate('withImageSlot', async function withImageSlot<T>(work: () => Promise<T>): Promise<T> {
    const release = tryImageSlot();
    if (!release) {
      throw new LumenError('BUSY', `the service is handling ${inflight} images (LUMEN_FACE_MAX_INFLIGHT); retry shortly`);
    }
    try {
      return await work();
    } finally {
      release();
    }
  });
});

/**
 * Runs a batch's images concurrently within the in-flight bound. The batch's own slot always runs one
 * image, so it always progresses; each further image runs only on a spare slot taken without waiting
 * (and given back after that image, so single requests get their turn), up to `maxConcurrent` at once.
 * It never waits on a slot another request holds, so it cannot deadlock, and it never exceeds
 * LUMEN_FACE_MAX_INFLIGHT.
 */
export class BatchSlots {
  private readonly waiting: Array<(release: () => void) => void> = [];
  private running = 0;
  private ownSlotFree = true;

  constructor(
    private readonly trySpareSlot: () => (() => void) | undefined,
    private readonly maxConcurrent: number,
  ) {}

  run<T>(task: () => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push((release) => {
        task().then(resolve, reject).finally(() => {
          release();
          this.running--;
          this.pump();
        });
      });
      this.pump();
    });
  }

  private pump(): void {
    while (this.waiting.length > 0 && this.running < this.maxConcurrent) {
      const release = this.takeSlot();
      // No slot: one of this batch's images is running on its own slot and will pump again when done.
      if (!release) return;
      this.running++;
      this.waiting.shift()!(release);
    }
  }

  private takeSlot(): (() => void) | undefined {
    if (this.ownSlotFree) {
      this.ownSlotFree = false;
      return () => {
        this.ownSlotFree = true;
      };
    }
    return this.trySpareSlot();
  }
}
