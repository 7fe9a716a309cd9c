import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { PROBE_PATHS } from '../routes/probe-paths.js';

/** What an image route did, per image, for the request log line and the metrics. */
export interface PipelineStats {
  images: Array<{
    faces: number;
    /** Milliseconds per stage, as the pipeline returns them (decode, detect, align, embed, ...). */
    timings: Record<string, number>;
  }>;
}

declare module 'fastify' {
  interface FastifyRequest {
    pipelineStats: PipelineStats | undefined;
    /** The `code` of a 4xx or 5xx answer, for the log line and the metrics. */
    errorCode: string | undefined;
    /** Its client went away and its work was stopped: that was its log line (routes/image-route.ts). */
    abandoned: boolean;
  }
}

/** Polled often, so logged only at debug. */
const QUIET_ROUTES: readonly string[] = [...PROBE_PATHS, '/metrics'];

/** Error answers are small; a larger body is not one of ours and is not parsed. */
const MAX_ERROR_BODY = 4096;

const round = (ms: number) => Math.round(ms * 10) / 10;

/** Faces and stage times summed over the images; a batch also gives its image count. */
function summary(stats: PipelineStats) {
  const stagesMs: Record<string, number> = {};
  for (const { timings } of stats.images) {
    for (const [stage, ms] of Object.entries(timings)) stagesMs[stage] = (stagesMs[stage] ?? 0) + ms;
  }
  for (const stage of Object.keys(stagesMs)) stagesMs[stage] = round(stagesMs[stage]);
  const faces = stats.images.reduce((n, image) => n + image.faces, 0);
  return { ...(stats.images.length > 1 && { images: stats.images.length }), faces, stagesMs };
}

/**
 * One line per request, after the answer: route, status, duration, faces and stage times, with the
 * request id the logger adds. Never headers, so keys cannot reach the log.
 * Fastify's own two lines per request are off (`disableRequestLogging`).
 */
export default fp(
  async function requestLogPlugin(app: FastifyInstance) {
    app.decorateRequest('pipelineStats', undefined);
    app.decorateRequest('errorCode', undefined);
    app.decorateRequest('abandoned', false);
    // Read from the answer itself, so every way of failing (handler, 404, framework errors) is covered.
    app.addHook('onSend', async (request, reply, payload) => {
      if (reply.statusCode >= 400 && typeof payload === 'string' && payload.length <= MAX_ERROR_BODY) {
        try {
          const code = (JSON.parse(payload) as { code?: unknown }).code;
          if (typeof code === 'string') request.errorCode = code;
        } catch {
          /* not JSON: logged and counted with code "unknown" */
        }
      }
      return payload;
    });
    app.addHook('onResponse', async (request, reply) => {
      if (request.abandoned) return;
      const route = request.routeOptions.url ?? 'unmatched';
      const stats = request.pipelineStats;
      const line = {
        method: request.method,
        route,
        status: reply.statusCode,
        durationMs: round(reply.elapsedTime),
        ...(stats && summary(stats)),
        ...(reply.statusCode >= 400 && { code: request.errorCode ?? 'unknown' }),
      };
      if (QUIET_ROUTES.includes(route)) request.log.debug(line, 'request');
      else request.log.info(line, 'request');
    });
  },
  { name: 'request-log' },
);
