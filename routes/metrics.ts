import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { errorResponses } from './route-schemas.js';

/** A few lines of a real scrape, as prom-client writes them. */
const EXAMPLE_SCRAPE = [
  '# HELP lumen_face_http_requests_total HTTP requests answered, by method, route pattern and status.',
  '# TYPE lumen_face_http_requests_total counter',
  'lumen_face_http_requests_total{method="POST",route="/v1/faces",status="200"} 42',
  '# HELP lumen_face_faces_per_image Faces answered per image, by route.',
  '# TYPE lumen_face_faces_per_image histogram',
  'lumen_face_faces_per_image_bucket{le="1",route="/v1/faces"} 40',
  '',
].join('\n');

const metricsRoute: FastifyPluginAsyncZod = async (app) => {
  app.get(
    '/metrics',
    {
      schema: {
        tags: ['service'],
        summary: 'Prometheus metrics, in the text exposition format',
        description:
          'Requests, latencies, stage times, faces per image, workers, model load and the process. ' +
          'Needs a key like any other route when keys are set (401 otherwise), unless LUMEN_FACE_METRICS_PUBLIC is set. See docs/api.md for every metric.',
        response: {
          // The body is prom-client's text, sent as it is (Fastify serializes only JSON content types).
          200: {
            description: 'The metrics in the Prometheus text exposition format 0.0.4.',
            content: { 'text/plain': { schema: z.string(), example: EXAMPLE_SCRAPE } },
          },
          401: errorResponses[401],
          421: errorResponses[421],
          500: errorResponses[500],
        },
      },
    },
    async (_request, reply) => reply.type(app.metrics.contentType).send(await app.metrics.metrics()),
  );
};

export default metricsRoute;
