import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { imageRoute } from './image-route.js';
import { embeddedFaceJson } from './json-shapes.js';
import { imageRouteValidator } from './query-validator.js';
import { embeddedFaceSchema, errorResponses, facesQuery, imageSize, imageUploadBody, modelSchema, ONE_IMAGE } from './route-schemas.js';

const facesResponse = z
  .object({ model: modelSchema, image: imageSize, faces: z.array(embeddedFaceSchema).meta({ description: 'Largest first.' }) })
  .meta({ id: 'FacesResponse', description: 'Every face, largest first, with its embedding.' });

const facesRoute: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/faces',
    {
      schema: {
        tags: ['faces'],
        summary: 'Detect, align and embed every face in one call',
        description:
          'Upload an image as multipart/form-data, or as base64 in JSON (`{"image": "..."}`). Faces are ordered largest first, each with its embedding.',
        querystring: facesQuery,
        body: imageUploadBody,
        response: { 200: facesResponse, ...errorResponses },
      },
      bodyLimit: app.jsonBodyLimit,
      validatorCompiler: imageRouteValidator,
    },
    async (request, reply) =>
      imageRoute(app, request, reply, { body: ONE_IMAGE, query: facesQuery }, async ({ files }, knobs, work) => {
        const backend = app.faceBackend.get();
        const { embedding_format: format, ...options } = knobs;
        const result = await work.photo(backend.faces(files[0], options, work.control));
        return {
          body: { model: backend.info().model, image: result.image, faces: result.faces.map((f) => embeddedFaceJson(f, format)) },
          outcomes: [result],
        };
      }),
  );
};

export default facesRoute;
