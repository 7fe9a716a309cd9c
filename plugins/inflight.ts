import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Run an image request's work in one of LUMEN_FACE_MAX_INFLIGHT slots, or answer 503 BUSY at once.
     * Routes call it once the body has fully arrived (routes/image-route.ts), so an upload in progress
     * holds no slot. The slot is held until the work ends, or freed at once when `signal` aborts (the
     * client went away: what still runs stops at its next model run).
     */
    withImageSlot<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
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
  app.decorate('withImageSlot', async function withImageSlot<T>(work: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    const release = tryImageSlot();
    if (!release) {
      throw new LumenError('BUSY', `the service is handling ${inflight} images (LUMEN_FACE_MAX_INFLIGHT); retry shortly`);
    }
    signal?.addEventListener('abort', release, { once: true });
    try {
      return await work();
    } finally {
      signal?.removeEventListener('abort', release);
      release();
    }
  });
});
