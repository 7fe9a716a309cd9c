import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';
import { isProbePath, METRICS_PATH } from '../routes/probe-paths.js';

/**
 * Routes anyone may call even when keys are set: the probes (load balancers and kubelets carry no key)
 * and the docs, which hold nothing secret (the document is committed) and must load in a browser before
 * Swagger UI's "Authorize" can attach a key.
 */
export function isPublicRoute(route: string | undefined, metricsPublic = false): boolean {
  if (route === undefined) return false;
  return isProbePath(route) || (metricsPublic && route === METRICS_PATH) || route === '/openapi.json' || route === '/docs' || route.startsWith('/docs/');
}

const sha256 = (text: string) => createHash('sha256').update(text).digest();

/**
 * True when `presented` is one of `keys`. Both sides are hashed first, so every comparison is between
 * equal-length digests, and every key is compared, so the time says nothing about which key or prefix matched.
 */
export function keyMatcher(keys: readonly string[]): (presented: string) => boolean {
  const digests = keys.map(sha256);
  return (presented) => {
    const digest = sha256(presented);
    let match = false;
    for (const key of digests) match = timingSafeEqual(digest, key) || match;
    return match;
  };
}

/** The key from `x-api-key: KEY` or `Authorization: Bearer KEY`, if any. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const header = request.headers['x-api-key'];
  if (typeof header === 'string' && header.trim() !== '') return header.trim();
  const bearer = /^Bearer +(.*)$/i.exec(request.headers.authorization ?? '');
  return bearer?.[1].trim();
}

const CHALLENGE = 'Bearer realm="lumen-face"';

/** With keys configured, every route but the public ones answers 401 to a request without a valid key. */
export default fp<{ keys: readonly string[]; publicRoutes?: readonly string[]; metricsPublic?: boolean }>(
  async function authPlugin(app: FastifyInstance, opts) {
    if (opts.keys.length === 0) return;
    const isKey = keyMatcher(opts.keys);
    const opened = opts.publicRoutes ?? [];
    if (opened.length > 0) app.log.warn({ routes: opened }, 'these routes answer without an API key (LUMEN_FACE_IMMICH=public); every other route needs one');
    app.addHook('onRequest', async (request, reply) => {
      const route = request.routeOptions.url;
      if (isPublicRoute(route, opts.metricsPublic) || (route !== undefined && opened.includes(route))) return;
      const key = presentedKey(request);
      if (key !== undefined && isKey(key)) return;
      if (key === undefined) {
        reply.header('www-authenticate', CHALLENGE);
        throw new LumenError('UNAUTHORIZED', 'this service needs an API key: send "x-api-key: KEY" or "Authorization: Bearer KEY"');
      }
      reply.header('www-authenticate', `${CHALLENGE}, error="invalid_token"`);
      throw new LumenError('UNAUTHORIZED', 'the API key is not valid');
    });
  },
  { name: 'auth' },
);
