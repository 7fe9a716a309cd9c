import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { alignOptionSchema, parseBoxesJson } from '../src/index.js';
import { imageRoute } from './image-route.js';
import { embeddingFormatQuery, embeddingJson, pixelBox, pixelLandmarks } from './json-shapes.js';
import { imageRouteValidator } from './query-validator.js';
import type { EmbeddedBox } from '../src/index.js';
import {
  boxSchema,
  embeddingSchema,
  errorResponses,
  fivePoints,
  imageFields,
  imageSize,
  type Json,
  landmarksSchema,
  modelSchema,
  ONE_IMAGE,
  photoUrl,
  uploadBody,
} from './route-schemas.js';

const embeddedBoxSchema = z
  .object({
    box: boxSchema,
    aligned: z.boolean().meta({ description: 'Whether the crop was aligned with landmarks (sent or detected around the box).', example: true }),
    // Written out rather than a reference: OpenAPI 3.0 cannot mark a bare $ref nullable.
    landmarks: fivePoints()
      .nullable()
      .meta({ description: 'The landmarks the crop was aligned with; null for a plain square crop.', example: landmarksSchema.meta()?.example }),
    embedding: embeddingSchema,
  })
  .meta({ id: 'EmbeddedBox', description: 'One box sent to /v1/embed (clamped to the image) with its embedding.' }) satisfies z.ZodType<Json<EmbeddedBox>>;

const embedQuery = alignOptionSchema.extend(embeddingFormatQuery.shape);

const BOXES_DESCRIPTION = '`[[x1,y1,x2,y2], ...]` or `[{"box":[x1,y1,x2,y2], "landmarks":[[x,y] x5]}, ...]`. Leave it out to embed the whole image.';

const embedUploadBody = uploadBody(
  z.object({
    image: imageFields().multipart,
    // An empty example, or Swagger UI would prefill the field ("string", or a box) and a plain
    // "Execute" would send it instead of embedding the whole image.
    boxes: z
      .string()
      .optional()
      .meta({ example: '', description: `Optional JSON: ${BOXES_DESCRIPTION}` }),
  }),
  z
    .object({
      image: imageFields().json.optional(),
      url: photoUrl.optional(),
      boxes: z
        .array(z.unknown())
        .optional()
        .meta({ description: `Optional: ${BOXES_DESCRIPTION}` }),
    })
    .meta({ description: 'The query parameters may also be given as keys of this object.' }),
);

const embedResponse = z
  .object({ model: modelSchema, image: imageSize, faces: z.array(embeddedBoxSchema).meta({ description: 'In the order sent.' }) })
  .meta({ id: 'EmbedResponse', description: 'One embedding per box, in the order sent (or one for the whole image).' });

const embedRoute: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/embed',
    {
      schema: {
        tags: ['faces'],
        summary: 'Embed given boxes, or the whole image',
        description:
          'Upload an image as multipart/form-data, or as base64 in JSON (`{"image": "...", "boxes": [...]}`). ' +
          'With `boxes`, each box is embedded in the order sent; without it, the whole image is. ' +
          'Each box is aligned with its landmarks (sent, or detected around the box) unless `align=false`.',
        querystring: embedQuery,
        body: embedUploadBody,
        response: { 200: embedResponse, ...errorResponses },
      },
      bodyLimit: app.jsonBodyLimit,
      validatorCompiler: imageRouteValidator,
    },
    async (request, reply) =>
      imageRoute(app, request, reply, { body: { ...ONE_IMAGE, fields: ['boxes'] }, query: embedQuery }, async ({ files, fields }, knobs, work) => {
        const backend = app.faceBackend.get();
        const boxes = fields.boxes === undefined ? undefined : parseBoxesJson(fields.boxes);
        const result = await work.photo(backend.embedDetailed(files[0], { boxes, align: knobs.align }, work.control));
        return {
          body: {
            model: backend.info().model,
            image: result.image,
            faces: result.faces.map((f) => ({
              box: pixelBox(f.box),
              aligned: f.aligned,
              landmarks: pixelLandmarks(f.landmarks),
              embedding: embeddingJson(f.embedding, knobs.embedding_format),
            })),
          },
          outcomes: [result],
        };
      }),
  );
};

export default embedRoute;
