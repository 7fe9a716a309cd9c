import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { detectedFaceJson, multipartValidator, reportResult } from './route-helpers.js';
import { detectQuery, detectResponse, errorResponses, imageUploadBody } from './route-schemas.js';

const detectRoute: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/detect', {
    schema: {
      tags: ['faces'],
      summary: 'Find faces: boxes, scores and 5-point landmarks',
      description: 'Upload an image as multipart/form-data. Faces are ordered largest first.',
      consumes: ['multipart/form-data'],
      querystring: detectQuery,
      body: imageUploadBody,
      response: { 200: detectResponse, ...errorResponses },
    },
    validatorCompiler: multipartValidator,
  }, async (request, reply) => {
    return app.withImageSlot(async () => {
      const backend = app.faceBackend.get();
      const { image } = await request.readUpload([]);
      const result = await backend.detect(image, request.query);
      reportResult(request, reply, result);
      return { model: backend.info().model, image: result.image, faces: result.faces.map(detectedFaceJson) };
    });
  });
};

export default detectRoute;
