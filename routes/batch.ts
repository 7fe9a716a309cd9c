import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BatchSlots } from '../plugins/batch-slots.js';
import { LumenError, type ErrorCode } from '../src/index.js';
import { detectedFaceJson, embeddedFaceJson, multipartValidator } from './route-helpers.js';
import { batchUploadBody, detectBatchResponse, detectQuery, errorResponses, facesBatchResponse } from './route-schemas.js';

/**
 * Images of one batch processed at once: enough to overlap decoding with inference, few enough that one
 * batch leaves most LUMEN_FACE_MAX_INFLIGHT slots to single requests.
 */
export const BATCH_CONCURRENCY = 4;

type ImageEntry<F> = { image: { width: number; height: number }; faces: F[] };
type ErrorEntry = { error: { statusCode: number; code: ErrorCode; message: string } };

/** One image's failure as its entry: a LumenError as such, anything else as a logged 500. */
function errorEntry(err: unknown, request: FastifyRequest): ErrorEntry {
  if (err instanceof LumenError) return { error: { statusCode: err.status, code: err.code, message: err.message } };
  request.log.error({ err }, 'batch image failed');
  return { error: { statusCode: 500, code: 'INTERNAL_ERROR', message: `internal error; quote request id ${request.id} when reporting it` } };
}

/**
 * Read the image parts as they stream in and process each as soon as it has arrived, within the
 * batch's in-flight slots. A bad image becomes its own error entry; a bad request fails as a whole.
 */
async function runBatch<F>(
  app: FastifyInstance,
  request: FastifyRequest,
  processImage: (bytes: Buffer) => Promise<ImageEntry<F>>,
) {
  return app.withImageSlot(async () => {
    const backend = app.faceBackend.get();
    const slots = new BatchSlots(() => app.tryImageSlot(), BATCH_CONCURRENCY);
    const entries: Promise<ImageEntry<F> | ErrorEntry>[] = [];
    const onImage = (bytes: Buffer) => {
      entries.push(slots.run(async () => {
        try {
          if (bytes.length === 0) throw new LumenError('EMPTY_IMAGE', 'the image part is empty');
          return await processImage(bytes);
        } catch (err) {
          return errorEntry(err, request);
        }
      }));
    };
    try {
      await request.readImages(app.config.maxImages, onImage);
    } catch (err) {
      // The images already started still hold slots: let them finish before answering.
      await Promise.allSettled(entries);
      throw err;
    }
    return { model: backend.info().model, results: await Promise.all(entries) };
  });
}

const common = {
  tags: ['faces'],
  consumes: ['multipart/form-data'],
  querystring: detectQuery,
  body: batchUploadBody,
  description: 'Upload up to LUMEN_FACE_MAX_IMAGES photos as repeated `image` file parts. The knobs apply to every image. ' +
    'Each result is the image\'s faces, or its own error.',
};

const batchRoutes: FastifyPluginAsyncZod = async (app) => {
  app.post('/v1/faces/batch', {
    schema: {
      ...common,
      summary: 'Detect, align and embed every face of many photos',
      response: { 200: facesBatchResponse, ...errorResponses },
    },
    validatorCompiler: multipartValidator,
  }, async (request) => runBatch(app, request, async (bytes) => {
    const result = await app.faceBackend.get().faces(bytes, request.query);
    return { image: result.image, faces: result.faces.map(embeddedFaceJson) };
  }));

  app.post('/v1/detect/batch', {
    schema: {
      ...common,
      summary: 'Find the faces of many photos: boxes, scores and landmarks',
      response: { 200: detectBatchResponse, ...errorResponses },
    },
    validatorCompiler: multipartValidator,
  }, async (request) => runBatch(app, request, async (bytes) => {
    const result = await app.faceBackend.get().detect(bytes, request.query);
    return { image: result.image, faces: result.faces.map(detectedFaceJson) };
  }));
};

export default batchRoutes;
