import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';

const metricsRoute: FastifyPluginAsyncZod = async (app) => {
  app.get('/metrics', {
    schema: {
      tags: ['service'],
      summary: 'Prometheus metrics, in the text exposition format',
      description:
        'Requests, latencies, stage times, faces per image, workers, model load and the process. ' +
        'Needs a key like any other route when keys are set (401 otherwise). See the README for every metric.',
    },
  }, async (_request, reply) => reply.type(app.metrics.contentType).send(await app.metrics.metrics()));
};

export default metricsRoute;
