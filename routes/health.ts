import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';

const healthRoute: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/healthz',
    {
      // Probes hit these every few seconds: their requests are logged at debug, not info.
      logLevel: 'warn',
      schema: {
        tags: ['service'],
        summary: 'Liveness: 200 whenever the process is alive (no model work)',
        response: { 200: z.object({ status: z.literal('ok') }).describe('The process is alive.') },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  const readiness = z.object({
    status: z.enum(['ready', 'loading', 'failed']),
    message: z.string().optional(),
  });
  app.get(
    '/readyz',
    {
      logLevel: 'warn',
      schema: {
        tags: ['service'],
        summary: 'Readiness: 200 once both models are loaded, 503 with the state otherwise',
        response: { 200: readiness.describe('Both models are loaded.'), 503: readiness.describe('Still loading, or loading failed (with the reason).') },
      },
    },
    async (_request, reply) => {
      const { state } = app.faceBackend;
      if (state.status === 'ready') return { status: 'ready' as const };
      reply.status(503);
      return state.status === 'failed' ? { status: 'failed' as const, message: state.error.message } : { status: 'loading' as const };
    },
  );
};

export default healthRoute;
