import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { embeddedFaceJson, multipartValidator, reportResult } from './route-helpers.js';
import { detectQuery, errorResponses, facesResponse, imageUploadBody } from './route-schemas.js';

const facesRoute: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/faces', {
    schema: {
      tags: ['faces'],
      summary: 'Detect, align and embed every face in one call',
      description: 'Upload an image as multipart/form-data. Faces are ordered largest first, each with its embedding.',
      consumes: ['multipart/form-data'],
      querystring: detectQuery,
      body: imageUploadBody,
      response: { 200: facesResponse, ...errorResponses },
    },
    validatorCompiler: multipartValidator,
  }, async (request, reply) => {
    return app.withImageSlot(async () => {
      const backend = app.faceBackend.get();
      const { image } = await request.readUpload([]);
      const result = await backend.faces(image, request.query);
      reportResult(request, reply, result);
      return {
        model: backend.info().model,
        image: result.image,
        faces: result.faces.map(embeddedFaceJson),
      };
    });
  });
};

export default facesRoute;
