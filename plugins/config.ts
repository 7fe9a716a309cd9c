import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Config } from '../src/config.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
  }
}

/** Makes the parsed configuration available to every plugin and route as `app.config`. */
export default fp<{ config: Config }>(async function configPlugin(app: FastifyInstance, opts) {
  app.decorate('config', opts.config);
});
