import { z } from 'zod';
import type { FastifySchemaCompiler } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { isJson, type PartsSpec } from '../plugins/body.js';
import { LumenError } from '../src/errors.js';
import { imageRoute } from './image-route.js';
import { imageRouteValidator } from './query-validator.js';
import { detectedFaceJson, roundedScore } from './json-shapes.js';
import { errorResponse, errorResponses, faceSchema, imageFields, modelSchema, uploadBody } from './route-schemas.js';

/** /v1/verify: two photos as multipart or base64 JSON, or two embeddings as JSON. */
const embeddingInput = (name: string) =>
  z
    .array(z.number())
    .min(1)
    .max(4096)
    .meta({ description: `The ${name} embedding, from this model (same dimension).` });

const verifyEmbeddingsBody = z.strictObject({ embedding1: embeddingInput('first'), embedding2: embeddingInput('second') }).meta({
  description: 'Two embeddings of this model.',
  example: { embedding1: [0.0123, -0.0456, 0.0789, 0.0012], embedding2: [0.0101, -0.0432, 0.0811, 0.0034] },
});

const first = imageFields('The first photo; its largest face is compared.');
const second = imageFields('The second photo; its largest face is compared.');

const verifyBody = uploadBody(
  z.object({ image1: first.multipart, image2: second.multipart }).meta({ description: 'Two photos, as the file parts image1 and image2.' }),
  z.union([verifyEmbeddingsBody, z.strictObject({ image1: first.json, image2: second.json }).meta({ description: 'Two photos in base64.' })]),
);

const verifyFaceSchema = faceSchema
  .extend({ image: z.enum(['image1', 'image2']).meta({ description: 'The input the face comes from.', example: 'image1' }) })
  .meta({ id: 'VerifyFace', description: 'The largest face of one of the two images, and which one.' });

const verifyResponse = z
  .object({
    model: modelSchema,
    similarity: z.number().meta({ description: 'Cosine similarity of the two embeddings, -1 to 1.', example: 0.6213 }),
    same_person: z.boolean().nullable().meta({ description: 'similarity >= threshold; null when no threshold is known for the model.', example: true }),
    threshold: z.number().nullable().meta({
      description: 'LUMEN_FACE_MATCH_THRESHOLD, or the value measured for the pack; null when neither exists.',
      example: 0.397,
    }),
    faces: z.array(verifyFaceSchema).meta({ description: 'The largest face of each image (empty when embeddings were sent).' }),
  })
  .meta({ id: 'VerifyResponse', description: 'Whether the two faces are the same person.' });

const verifyErrorResponses = {
  ...errorResponses,
  422: errorResponse(
    'One of the images shows no face.',
    {
      code: 'NO_FACE',
      error: 'Unprocessable Entity',
      message: 'no face found in "image2"; each image must show at least one face',
    },
    422,
  ),
};

const TWO_IMAGES: PartsSpec = { files: ['image1', 'image2'], maxFiles: 2, eachOnce: true };
const NO_KNOBS = z.object({});

/**
 * The body is read in the handler (request.readParts, or the embeddings schema below) so that each
 * kind gets its own message; the zod body schema is there for the OpenAPI document.
 */
const bodyInHandler: FastifySchemaCompiler<unknown> = (route) => (route.httpPart === 'body' ? (body) => ({ value: body }) : imageRouteValidator(route));

const sentEmbeddings = (body: unknown) => body !== null && typeof body === 'object' && ('embedding1' in body || 'embedding2' in body);

const verifyRoute: FastifyPluginAsyncZod = async (app) => {
  app.post(
    '/v1/verify',
    {
      schema: {
        tags: ['faces'],
        summary: 'Are two faces the same person?',
        description:
          'Send two photos as multipart/form-data (file parts `image1` and `image2`) or as base64 in JSON (`{"image1": "...", "image2": "..."}`): ' +
          'the largest face of each is embedded and compared. ' +
          'Or send two embeddings of this model as JSON: `{"embedding1": [...], "embedding2": [...]}`. ' +
          '`same_person` is `similarity >= threshold`. An image without a face gets 422 naming it.',
        body: verifyBody,
        // No query parameter: an unknown one is refused, as on every image route.
        querystring: NO_KNOBS,
        response: { 200: verifyResponse, ...verifyErrorResponses },
      },
      bodyLimit: app.jsonBodyLimit,
      validatorCompiler: bodyInHandler,
    },
    async (request, reply) => {
      const backend = app.faceBackend.get();
      if (isJson(request) && sentEmbeddings(request.body)) {
        const { embedding1, embedding2 } = parseEmbeddings(request.body);
        const result = backend.verifyEmbeddings(embedding1, embedding2);
        return { model: backend.info().model, ...result, similarity: roundedScore(result.similarity), faces: [] };
      }
      return imageRoute(app, request, reply, { body: TWO_IMAGES, query: NO_KNOBS }, async ({ files }, _knobs, work) => {
        const photo = (name: string) => files.find((f) => f.name === name)!;
        const { answers, faces, ...result } = await work.photo(backend.verify(photo('image1'), photo('image2'), work.control));
        return {
          body: {
            model: backend.info().model,
            ...result,
            similarity: roundedScore(result.similarity),
            faces: faces.map(({ image, ...face }) => ({ image, ...detectedFaceJson(face) })),
          },
          outcomes: answers,
        };
      });
    },
  );
};

function parseEmbeddings(body: unknown) {
  const parsed = verifyEmbeddingsBody.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = issue.path.join('.') || 'body';
  throw new LumenError('INVALID_PARAMETER', `body parameter "${name}" is invalid: ${issue.message}`);
}

export default verifyRoute;
