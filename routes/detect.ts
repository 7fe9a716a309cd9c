import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { imageRoute } from './image-route.js';
import { detectedFaceJson } from './json-shapes.js';
import { imageRouteValidator } from './query-validator.js';
import { detectQuery, errorResponses, faceSchema, imageSize, imageUploadBody, modelSchema, ONE_IMAGE } from './route-schemas.js';

const detectResponse = z
  .object({ model: modelSchema, image: imageSize, faces: z.array(faceSchema).meta({ description: 'Largest first.' }) })
  .meta({ id: 'DetectResponse', description: 'The faces found, largest first.' });

const detectRoute: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/detect',
    {
      schema: {
        tags: ['faces'],
        summary: 'Find faces: boxes, scores and 5-point landmarks',
        description: 'Upload an image as multipart/form-data, or as base64 in JSON (`{"image": "..."}`). Faces are ordered largest first.',
        querystring: detectQuery,
        body: imageUploadBody,
        response: { 200: detectResponse, ...errorResponses },
      },
      bodyLimit: app.jsonBodyLimit,
      validatorCompiler: imageRouteValidator,
    },
    async (request, reply) =>
      imageRoute(app, request, reply, { body: ONE_IMAGE, query: detectQuery }, async ({ files }, knobs, work) => {
        const backend = app.faceBackend.get();
        const result = await work.photo(backend.detect(files[0], knobs, work.control));
        return {
          body: { model: backend.info().model, image: result.image, faces: result.faces.map(detectedFaceJson) },
          outcomes: [result],
        };
      }),
  );
};

export default detectRoute;
