import type { FastifyInstance, HTTPMethods } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Answer 405 with `Allow` for the other methods on every path registered so far. */
    refuseOtherMethods(): void;
  }
}

/** OPTIONS stays free for CORS preflight; HEAD follows GET. */
const OTHER_METHODS: HTTPMethods[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];

/**
 * A wrong method on a known path is a 405 naming the allowed ones, not a 404: `GET /v1/faces` is a
 * client using the right route the wrong way. Routes are recorded as they are registered.
 */
export default fp(async function methodNotAllowedPlugin(app: FastifyInstance) {
  const methodsByPath = new Map<string, Set<string>>();
  app.addHook('onRoute', (route) => {
    if (route.url.includes('*') || route.url.includes(':')) return;
    const methods = methodsByPath.get(route.url) ?? new Set<string>();
    for (const method of [route.method].flat()) methods.add(method);
    methodsByPath.set(route.url, methods);
  });

  app.decorate('refuseOtherMethods', function refuseOtherMethods(this: FastifyInstance) {
    for (const [url, methods] of [...methodsByPath]) {
      const missing = OTHER_METHODS.filter((m) => !methods.has(m) && !(m === 'HEAD' && methods.has('GET')));
      if (missing.length === 0 || !methods.has('POST')) continue;
      const allow = [...methods].filter((m) => m !== 'HEAD').join(', ');
      this.route({
        method: missing,
        url,
        schema: { hide: true },
        exposeHeadRoute: false,
        handler: async (request, reply) => {
          reply.header('allow', allow);
          throw new LumenError('METHOD_NOT_ALLOWED', `${request.method} is not allowed on ${url}; use ${allow}`);
        },
      });
    }
  });
});
