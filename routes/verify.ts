import type { FastifyRequest, FastifySchemaCompiler } from 'fastify';
import { type FastifyPluginAsyncZod, validatorCompiler } from 'fastify-type-provider-zod';
import { LumenError } from '../src/errors.js';
import { verifyBody, verifyEmbeddingsBody, verifyErrorResponses, verifyResponse } from './route-schemas.js';

const IMAGE_PARTS = ['image1', 'image2'] as const;
type ImagePart = (typeof IMAGE_PARTS)[number];

/**
 * The body is a multipart stream (read below) or JSON, validated in the handler so that each kind gets
 * its own message; the zod body schema is there for the OpenAPI document.
 */
const bodyInHandler: FastifySchemaCompiler<unknown> = (route) =>
  route.httpPart === 'body' ? () => true : (validatorCompiler as FastifySchemaCompiler<unknown>)(route);

const NEITHER_MESSAGE =
  'expected multipart/form-data with the file parts "image1" and "image2", or application/json with "embedding1" and "embedding2"';

const verifyRoute: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/verify', {
    schema: {
      tags: ['faces'],
      summary: 'Are two faces the same person?',
      description:
        'Send two photos as multipart/form-data (file parts `image1` and `image2`): the largest face of each is embedded and compared. ' +
        'Or send two embeddings of this model as JSON: `{"embedding1": [...], "embedding2": [...]}`. ' +
        '`same_person` is `similarity >= threshold`. An image without a face gets 422 naming it.',
      consumes: ['multipart/form-data', 'application/json'],
      body: verifyBody,
      response: { 200: verifyResponse, ...verifyErrorResponses },
    },
    validatorCompiler: bodyInHandler,
  }, async (request) => {
    if (!request.isMultipart()) {
      if (!/^application\/json\b/i.test(request.headers['content-type'] ?? '')) throw new LumenError('NOT_MULTIPART', NEITHER_MESSAGE);
      const backend = app.faceBackend.get();
      const { embedding1, embedding2 } = parseEmbeddings(request.body);
      const result = backend.verifyEmbeddings(embedding1, embedding2);
      return { model: backend.info().model, ...result, similarity: round4(result.similarity), faces: [] };
    }
    return app.withImageSlot(async () => {
      const backend = app.faceBackend.get();
      const images = await readTwoImages(request, app.config.maxUploadBytes);
      const result = await backend.verify(images.image1, images.image2);
      return {
        model: backend.info().model,
        ...result,
        similarity: round4(result.similarity),
        faces: result.faces.map((f) => ({ image: f.image, box: f.box, score: f.score, landmarks: f.landmarks, quality: f.quality })),
      };
    });
  });
};

function parseEmbeddings(body: unknown) {
  const parsed = verifyEmbeddingsBody.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = issue.path.join('.') || 'body';
  throw new LumenError('INVALID_PARAMETER', `body parameter "${name}" is invalid: ${issue.message}`);
}

/** Exactly the two file parts image1 and image2, together within the upload limit. */
async function readTwoImages(request: FastifyRequest, maxUploadBytes: number): Promise<Record<ImagePart, Buffer>> {
  const images: Partial<Record<ImagePart, Buffer>> = {};
  let total = 0;
  try {
    for await (const part of request.parts({ limits: { files: 2 } })) {
      const name = part.fieldname as ImagePart;
      if (part.type !== 'file') {
        if (IMAGE_PARTS.includes(name)) throw new LumenError('UNEXPECTED_FIELD', `"${name}" must be a file part (curl -F ${name}=@photo.jpg), received a text field`);
        throw new LumenError('UNEXPECTED_FIELD', `unexpected field "${part.fieldname}"; this endpoint accepts the file parts "image1" and "image2"`);
      }
      if (!IMAGE_PARTS.includes(name)) {
        part.file.resume();
        throw new LumenError('UNEXPECTED_FILE', `unexpected file part "${part.fieldname}"; send the photos as "image1" and "image2"`);
      }
      if (images[name]) {
        part.file.resume();
        throw new LumenError('TOO_MANY_FILES', `"${name}" was sent twice; send one "image1" and one "image2"`);
      }
      const bytes = await part.toBuffer();
      total += bytes.length;
      if (total > maxUploadBytes) {
        throw new LumenError('UPLOAD_TOO_LARGE', `the two images have more than ${maxUploadBytes} bytes together (LUMEN_FACE_MAX_UPLOAD_BYTES)`);
      }
      if (bytes.length === 0) throw new LumenError('EMPTY_IMAGE', `the "${name}" part is empty`);
      images[name] = bytes;
    }
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === 'FST_FILES_LIMIT') throw new LumenError('TOO_MANY_FILES', 'send exactly two file parts, "image1" and "image2"');
    const status = (err as { statusCode?: number }).statusCode;
    if (err instanceof LumenError || (status !== undefined && status >= 400 && status < 500)) throw err;
    throw new LumenError('MALFORMED_MULTIPART', `the multipart body could not be parsed: ${(err as Error).message}`);
  }
  const missing = IMAGE_PARTS.filter((name) => !images[name]);
  if (missing.length > 0) {
    throw new LumenError('MISSING_IMAGE', `the multipart body has no ${missing.map((m) => `"${m}"`).join(' or ')} file part (curl -F image1=@a.jpg -F image2=@b.jpg)`);
  }
  return images as Record<ImagePart, Buffer>;
}

const round4 = (x: number) => Math.round(x * 10000) / 10000;

export default verifyRoute;
