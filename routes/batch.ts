import { z } from 'zod';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BatchSlots } from './batch-slots.js';
import { IMAGE_PART_NAMES, type PartsSpec, type ReadFile } from '../plugins/body.js';
import { LumenError, type BackendInfo, type ErrorCode, type StageTimings } from '../src/index.js';
import { imageRoute, type ImageWork } from './image-route.js';
import type { RequestWork } from '../server/request-work.js';
import { detectedFaceJson, embeddedFaceJson } from './json-shapes.js';
import { imageRouteValidator } from './query-validator.js';
import type { ImageOutcome } from './report.js';
import {
  detectQuery,
  embeddedFaceSchema,
  errorResponses,
  errorSchema,
  faceSchema,
  facesQuery,
  imageFields,
  imageSize,
  modelSchema,
  uploadBody,
} from './route-schemas.js';

/**
 * Images of one batch processed at once: enough to overlap decoding with inference, few enough that one
 * batch leaves most LUMEN_FACE_MAX_INFLIGHT slots to single requests.
 */
export const BATCH_CONCURRENCY = 4;

const batchUploadBody = uploadBody(
  z.object({ image: z.array(imageFields().multipart).meta({ description: 'The photos, each a file part named `image` (or `file`), repeated.' }) }),
  z
    .object({ images: z.array(imageFields().json).meta({ description: 'The photos, in order.' }) })
    .meta({ description: 'The query parameters may also be given as keys of this object.' }),
);

// Named: both batch routes answer it, and a client handles it in one place.
const batchError = z
  .object({
    error: errorSchema.pick({ statusCode: true, code: true, message: true }).meta({ description: 'Why this image failed; the other images are unaffected.' }),
  })
  .meta({
    id: 'BatchError',
    description: 'The entry of an image that failed, in place of its faces.',
    example: { error: { statusCode: 415, code: 'UNSUPPORTED_IMAGE', message: 'expected a JPEG, PNG, WebP, AVIF, GIF or TIFF image, received a PDF document' } },
  });

const batchResponse = <F extends z.ZodType>(face: F, id: string, description: string) =>
  z
    .object({
      model: modelSchema,
      results: z
        .array(z.union([z.object({ image: imageSize, faces: z.array(face) }), batchError]))
        .meta({ description: 'One entry per image, in the order sent.' }),
    })
    .meta({ id, description });

const facesBatchResponse = batchResponse(embeddedFaceSchema, 'FacesBatchResponse', 'For each image, in order: its faces with embeddings, or its error.');
const detectBatchResponse = batchResponse(faceSchema, 'DetectBatchResponse', 'For each image, in order: its faces, or its error.');

type Processed<F> = { entry: { image: { width: number; height: number }; faces: F[] }; outcome: ImageOutcome };
type ErrorEntry = { error: { statusCode: number; code: ErrorCode; message: string } };

/** One image's failure as its entry: a LumenError as such, anything else as a logged 500. */
function errorEntry(err: unknown, request: FastifyRequest): ErrorEntry {
  if (err instanceof LumenError) return { error: { statusCode: err.status, code: err.code, message: err.message } };
  request.log.error({ err }, 'batch image failed');
  return { error: { statusCode: 500, code: 'INTERNAL_ERROR', message: `internal error; quote request id ${request.id} when reporting it` } };
}

/**
 * The faces a batch may still answer (LUMEN_FACE_MAX_FACES_PER_REQUEST). An image starts with at most what
 * is left, and keeps at most what is left when it ends (its largest faces); images running at once may
 * compute a few more than are kept, never more than BATCH_CONCURRENCY times LUMEN_FACE_MAX_FACES.
 */
class FaceAllowance {
  constructor(private left: number) {}

  available(wanted: number): number {
    return Math.min(wanted, this.left);
  }

  keep(found: number): number {
    const kept = Math.min(found, this.left);
    this.left -= kept;
    return kept;
  }
}

/**
 * Process the images of a batch, which has fully arrived, within its in-flight slots. A bad image
 * becomes its own error entry; the others are unaffected.
 */
async function runBatch<F>(
  app: FastifyInstance,
  request: FastifyRequest,
  files: readonly ReadFile[],
  work: RequestWork,
  maxFaces: number,
  processImage: (file: ReadFile, maxFaces: number) => Promise<Processed<F>>,
): Promise<ImageWork<{ model: BackendInfo['model']; results: Array<Processed<F>['entry'] | ErrorEntry> }>> {
  const backend = app.faceBackend.get();
  const slots = new BatchSlots(() => app.tryImageSlot(), BATCH_CONCURRENCY);
  const allowance = new FaceAllowance(app.config.maxFacesPerRequest);
  const tooManyFaces = () =>
    new LumenError(
      'TOO_MANY_FACES',
      `not answered: the request already holds ${app.config.maxFacesPerRequest} faces (LUMEN_FACE_MAX_FACES_PER_REQUEST); send this image in another request`,
    );
  const done = await Promise.all(
    files.map((file) =>
      slots.run(async () => {
        try {
          if (work.aborted) throw work.aborted;
          if (file.bytes.length === 0) throw new LumenError('EMPTY_IMAGE', 'the image part is empty');
          const granted = allowance.available(maxFaces);
          if (granted === 0) throw tooManyFaces();
          const processed = await work.photo(processImage(file, granted));
          const kept = allowance.keep(processed.entry.faces.length);
          if (kept === processed.entry.faces.length) return processed;
          if (kept === 0) throw tooManyFaces();
          return {
            entry: { ...processed.entry, faces: processed.entry.faces.slice(0, kept) },
            outcome: { ...processed.outcome, faces: processed.outcome.faces.slice(0, kept) },
          };
        } catch (err) {
          // Stopped work fails as a whole below: a photo cut by the stop is not an error of its own.
          if (work.aborted) return { error: { statusCode: work.aborted.status, code: work.aborted.code, message: work.aborted.message } };
          return errorEntry(err, request);
        }
      }),
    ),
  );
  // Stopped work answers as a whole (or not at all, when the client has gone), never as per-image errors.
  if (work.aborted) throw work.aborted;
  return {
    body: { model: backend.info().model, results: done.map((d) => ('error' in d ? d : d.entry)) },
    outcomes: done.flatMap((d) => ('error' in d ? [] : [d.outcome])),
  };
}

const common = {
  tags: ['faces'],
  body: batchUploadBody,
  description:
    'Upload up to LUMEN_FACE_MAX_IMAGES photos as repeated `image` file parts, or as `{"images": [base64, ...]}` in JSON. ' +
    "The knobs apply to every image. Each result is the image's faces, or its own error. " +
    'A batch with more images is refused at the first image over the limit, before any is processed.',
};

const batchRoutes: FastifyPluginAsyncZod = async (app) => {
  const spec: PartsSpec = { files: IMAGE_PART_NAMES, maxFiles: app.config.maxImages, jsonArray: 'images', maxFilesSetting: 'LUMEN_FACE_MAX_IMAGES' };
  const outcome = (result: { faces: readonly unknown[]; timings: StageTimings }): ImageOutcome => ({ faces: result.faces, timings: result.timings });

  app.post(
    '/v1/faces/batch',
    {
      schema: {
        ...common,
        querystring: facesQuery,
        summary: 'Detect, align and embed every face of many photos',
        response: { 200: facesBatchResponse, ...errorResponses },
      },
      bodyLimit: app.jsonBodyLimit,
      validatorCompiler: imageRouteValidator,
    },
    async (request, reply) =>
      imageRoute(app, request, reply, { body: spec, query: facesQuery }, async ({ files }, knobs, work) => {
        const { embedding_format: format, ...options } = knobs;
        return runBatch(app, request, files, work, options.max_faces ?? app.config.maxFaces, async (file, maxFaces) => {
          const result = await app.faceBackend.get().faces(file, { ...options, max_faces: maxFaces }, work.control);
          return { entry: { image: result.image, faces: result.faces.map((f) => embeddedFaceJson(f, format)) }, outcome: outcome(result) };
        });
      }),
  );

  app.post(
    '/v1/detect/batch',
    {
      schema: {
        ...common,
        querystring: detectQuery,
        summary: 'Find the faces of many photos: boxes, scores and landmarks',
        response: { 200: detectBatchResponse, ...errorResponses },
      },
      bodyLimit: app.jsonBodyLimit,
      validatorCompiler: imageRouteValidator,
    },
    async (request, reply) =>
      imageRoute(app, request, reply, { body: spec, query: detectQuery }, async ({ files }, knobs, work) =>
        runBatch(app, request, files, work, knobs.max_faces ?? app.config.maxFaces, async (file, maxFaces) => {
          const result = await app.faceBackend.get().detect(file, { ...knobs, max_faces: maxFaces }, work.control);
          return { entry: { image: result.image, faces: result.faces.map(detectedFaceJson) }, outcome: outcome(result) };
        }),
      ),
  );
};

export default batchRoutes;
