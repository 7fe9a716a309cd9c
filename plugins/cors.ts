import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * CORS only when LUMEN_FACE_CORS_ORIGINS is set: without it no CORS header is sent, so browsers keep
 * other sites' pages from reading the answers. Keys travel in headers, never cookies, so no credentials.
 */
export default fp<{ origins: '*' | readonly string[] | undefined }>(async function corsPlugin(app: FastifyInstance, opts) {
  if (!opts.origins) return;
  await app.register(cors, {
    origin: opts.origins === '*' ? '*' : [...opts.origins],
    methods: ['GET', 'HEAD', 'POST'],
    allowedHeaders: ['content-type', 'x-api-key', 'authorization', 'x-request-id'],
    exposedHeaders: ['x-request-id', 'server-timing', 'retry-after', 'www-authenticate'],
    credentials: false,
    maxAge: 600,
  });
}, { name: 'cors' });
