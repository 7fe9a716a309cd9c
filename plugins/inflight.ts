import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Counts against LUMEN_FACE_MAX_INFLIGHT (routes that take an image). */
    heavy?: boolean;
  }
}

/**
 * Bounds the image requests in progress. Each holds an upload of up to LUMEN_FACE_MAX_UPLOAD_BYTES
 * plus decoded pixels, so an unbounded flood would exhaust memory; past the limit, answer 503 at once,
 * before reading the body.
 */
export default fp<{ maxInflight: number }>(async function inflightPlugin(app: FastifyInstance, opts) {
  let inflight = 0;
  const counted = new WeakSet<object>();

  app.addHook('onRequest', async (request, reply) => {
    if (!request.routeOptions.config?.heavy) return;
    if (inflight >= opts.maxInflight) {
      reply.header('retry-after', '1');
      throw new LumenError(503, 'BUSY', `the service is handling ${inflight} images (LUMEN_FACE_MAX_INFLIGHT); retry shortly`);
    }
    inflight++;
    counted.add(request);
  });

  const release = async (request: object) => {
    if (counted.delete(request)) inflight--;
  };
  app.addHook('onResponse', release);
  app.addHook('onRequestAbort', release);
});
