import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * Run an image request's work in one of LUMEN_FACE_MAX_INFLIGHT slots, or answer 503 BUSY at once
     * (before the body is read). The slot is held until the work ends, even if the client has gone.
     */
    withImageSlot<T>(work: () => Promise<T>): Promise<T>;
  }
}

/**
 * Each image request holds an upload of up to LUMEN_FACE_MAX_UPLOAD_BYTES plus decoded pixels, so an
 * unbounded flood would exhaust memory.
 */
export default fp<{ maxInflight: number }>(async function inflightPlugin(app: FastifyInstance, opts) {
  let inflight = 0;
  app.decorate('withImageSlot', async function withImageSlot<T>(work: () => Promise<T>): Promise<T> {
    if (inflight >= opts.maxInflight) {
      throw new LumenError('BUSY', `the service is handling ${inflight} images (LUMEN_FACE_MAX_INFLIGHT); retry shortly`);
    }
    inflight++;
    try {
      return await work();
    } finally {
      inflight--;
    }
  });
});
