import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';
import { toErrorBody } from './errors.js';

/**
 * What no route answers. A known path with the wrong method is a 405 naming the allowed ones, not a 404:
 * `GET /v1/faces`, `PROPFIND /v1/faces` or (with CORS off) `OPTIONS /v1/faces` is a client using the right
 * route the wrong way. Deciding it here, when nothing matched, covers every method Node accepts, and never
 * shadows the CORS preflight route (@fastify/cors answers OPTIONS on every path when CORS is on).
 */
export default fp(
  async function methodNotAllowedPlugin(app: FastifyInstance) {
    const methodsByPath = new Map<string, Set<string>>();
    app.addHook('onRoute', (route) => {
      if (route.url.includes('*') || route.url.includes(':')) return;
      const methods = methodsByPath.get(route.url) ?? new Set<string>();
      for (const method of [route.method].flat()) methods.add(method);
      methodsByPath.set(route.url, methods);
    });

    app.setNotFoundHandler((request, reply) => {
      const path = request.url.split('?')[0];
      const methods = methodsByPath.get(path);
      if (methods === undefined) {
        return reply.status(404).send(toErrorBody(404, 'NOT_FOUND', `no route ${request.method} ${path}; see /docs`));
      }
      const allow = [...methods].join(', ');
      reply.header('allow', allow);
      throw new LumenError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${path}; use ${allow}`);
    });
  },
  { name: 'method-not-allowed' },
);
