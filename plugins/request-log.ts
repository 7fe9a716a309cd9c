import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { PROBE_PATHS } from './probe-paths.js';

/** What an image route did, for the request log line and the metrics. */
export interface PipelineStats {
  faces: number;
  /** Milliseconds per stage, as the pipeline returns them (decode, detect, align, embed, ...). */
  timings: Record<string, number>;
}

declare module 'fastify' {
  interface FastifyRequest {
    pipelineStats: PipelineStats | undefined;
  }
}

/** Polled often, so logged only at debug. */
const QUIET_ROUTES: readonly string[] = [...PROBE_PATHS, '/metrics'];

const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * One line per request, after the answer: route, status, duration, faces and stage times, with the
 * request id the logger adds. Never headers, so keys cannot reach the log.
 * Fastify's own two lines per request are off (`disableRequestLogging`).
 */
export default fp(async function requestLogPlugin(app: FastifyInstance) {
  app.decorateRequest('pipelineStats', undefined);
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const stats = request.pipelineStats;
    const line = {
      method: request.method,
      route,
      status: reply.statusCode,
      durationMs: round(reply.elapsedTime),
      ...(stats && {
        faces: stats.faces,
        stagesMs: Object.fromEntries(Object.entries(stats.timings).map(([stage, ms]) => [stage, round(ms)])),
      }),
    };
    if (QUIET_ROUTES.includes(route)) request.log.debug(line, 'request');
    else request.log.info(line, 'request');
  });
}, { name: 'request-log' });
