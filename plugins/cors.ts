import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';

/**
 * CORS only when LUMEN_FACE_CORS_ORIGINS is set: without it no CORS header is sent, so browsers keep
 * other sites' pages from reading the answers. Keys travel in headers, never cookies, so no credentials.
 */
export default fp<{ origins: '*' | readonly string[] | undefined }>(
  async function corsPlugin(app: FastifyInstance, opts) {
    if (!opts.origins) return;
    // @fastify/cors answers an OPTIONS that is no preflight with a text 400; ours is in the one shape.
    app.addHook('onRequest', async (request) => {
      if (request.method === 'OPTIONS' && (request.headers.origin === undefined || request.headers['access-control-request-method'] === undefined)) {
        throw new LumenError('BAD_REQUEST', 'OPTIONS here is a CORS preflight: it needs the Origin and Access-Control-Request-Method headers');
      }
    });
    await app.register(cors, {
      origin: opts.origins === '*' ? '*' : [...opts.origins],
      methods: ['GET', 'HEAD', 'POST'],
      allowedHeaders: ['content-type', 'x-api-key', 'authorization', 'x-request-id'],
      exposedHeaders: ['x-request-id', 'server-timing', 'retry-after', 'www-authenticate'],
      credentials: false,
      maxAge: 600,
    });
  },
  { name: 'cors' },
);
