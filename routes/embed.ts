import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { parseBoxesJson } from '../src/index.js';
import { multipartValidator, pixelBox, pixelLandmarks, reportResult, toNumbers } from './route-helpers.js';
import { embedQuery, embedResponse, embedUploadBody, errorResponses } from './route-schemas.js';

const embedRoute: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/embed', {
    schema: {
      tags: ['faces'],
      summary: 'Embed given boxes, or the whole image',
      description:
        'Upload an image as multipart/form-data. With `boxes`, each box is embedded in the order sent; without it, the whole image is. ' +
        'Each box is aligned with its landmarks (sent, or detected around the box) unless `align=false`.',
      consumes: ['multipart/form-data'],
      querystring: embedQuery,
      body: embedUploadBody,
      response: { 200: embedResponse, ...errorResponses },
    },
    validatorCompiler: multipartValidator,
  }, async (request, reply) => {
    return app.withImageSlot(async () => {
      const backend = app.faceBackend.get();
      const { image, fields } = await request.readUpload(['boxes']);
      const boxes = fields.boxes === undefined ? undefined : parseBoxesJson(fields.boxes);
      const result = await backend.embedDetailed(image, { boxes, align: request.query.align });
      reportResult(request, reply, result);
      return {
        model: backend.info().model,
        image: result.image,
        faces: result.faces.map((f) => ({
          box: pixelBox(f.box), aligned: f.aligned, landmarks: pixelLandmarks(f.landmarks), embedding: toNumbers(f.embedding),
        })),
      };
    });
  });
};

export default embedRoute;
