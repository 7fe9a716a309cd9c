import { z } from 'zod';
import { alignOptionSchema, detectOptionsSchema, errorCodes, PRECISIONS, RUNTIMES } from '../src/index.js';
import type { BackendInfo, Box, EmbeddedBox, EmbeddedFace, ImageSize, Landmarks, Point, QualifiedFace } from '../src/index.js';

/**
 * HTTP schemas: the single source for validation, TypeScript types and the OpenAPI document.
 * Each shape a client meets twice has an `id`, which makes it a named component schema.
 * Each is tied to the library's type with `satisfies`: a schema that stops matching what the
 * library returns fails to compile (the handlers check the other direction when they return it).
 */

/** The library's shapes as JSON carries them: vectors are number arrays. */
type Json<T> = { [K in keyof T]: T[K] extends Float32Array ? number[] : T[K] };

const pixels = (description: string, example: number) => z.number().meta({ description, example });
export const count = (description: string, example: number) => z.number().int().nonnegative().meta({ description, example });

export const boxSchema = z
  .tuple([z.number(), z.number(), z.number(), z.number()])
  .meta({ id: 'Box', description: '[x1, y1, x2, y2] in pixels of the EXIF-upright image.', example: [465.15, 265.21, 573.32, 416.03] }) satisfies z.ZodType<Box>;

export const pointSchema = z
  .tuple([z.number(), z.number()])
  .meta({ id: 'Point', description: '[x, y] in pixels of the EXIF-upright image.', example: [491.62, 318.87] }) satisfies z.ZodType<Point>;

const fivePoints = () => z.tuple([pointSchema, pointSchema, pointSchema, pointSchema, pointSchema]);

export const landmarksSchema = fivePoints()
  .meta({
    id: 'Landmarks',
    description: 'Five [x, y] points: left eye, right eye, nose, left mouth corner, right mouth corner.',
    example: [[491.62, 318.87], [540.71, 331.94], [507.13, 360.78], [483.81, 366.92], [532.06, 378.2]],
  }) satisfies z.ZodType<Landmarks>;

export const embeddingSchema = z
  .array(z.number())
  .meta({ id: 'Embedding', example: [0.0123, -0.0456, 0.0789, 0.0012], description: 'L2-normalised embedding of `model.dim` float32 values; compare two with a dot product (cosine).' });

export const imageSize = z
  .object({ width: count('Width in pixels.', 1280), height: count('Height in pixels.', 886) })
  .meta({ id: 'ImageSize', description: 'Size of the EXIF-upright image in pixels.' }) satisfies z.ZodType<ImageSize>;

export const modelSchema = z
  .object({
    name: z.string().meta({ description: 'Model pack name.', example: 'scrfd_2.5g_mbf' }),
    runtime: z.enum(RUNTIMES).meta({ description: 'Inference runtime.', example: 'onnxrt' }),
    precision: z.enum(PRECISIONS).meta({ description: 'Pack precision.', example: 'fp32' }),
    dim: count('Embedding dimension.', 128),
  })
  .meta({ id: 'Model', description: 'The model pack the embeddings come from: compare only embeddings of one pack.' }) satisfies z.ZodType<
  BackendInfo['model']
>;

const angle = (description: string, example: number) =>
  z.number().nullable().meta({ description: `${description}, in degrees, from the five landmarks; null when they give no pose.`, example });

export const qualitySchema = z
  .object({
    yaw: angle("Left-right head turn, positive towards the image's right; 0 is frontal", -4.2),
    pitch: angle('Up-down head tilt, positive up; 0 is level', 3.1),
    roll: angle('In-plane rotation of the eye line, positive clockwise; 0 is level', 12.5),
    sharpness: z.number().nonnegative().meta({ description: 'Variance of the Laplacian on the aligned 112x112 gray face; comparable across face sizes, higher is sharper.', example: 312.4 }),
    size: pixels('Shorter side of the box in pixels.', 108.1),
  })
  .meta({ id: 'Quality', description: 'Pose, sharpness and size, for dropping profile, blurry or tiny faces.' });

const score = z.number().min(0).max(1).meta({ description: 'Detection score, 0 to 1.', example: 0.9101 });

export const faceSchema = z
  .object({ box: boxSchema, score, landmarks: landmarksSchema, quality: qualitySchema })
  .meta({ id: 'Face', description: 'A detected face: its box, score, five landmarks and quality.' }) satisfies z.ZodType<QualifiedFace>;

export const embeddedFaceSchema = faceSchema
  .extend({ embedding: embeddingSchema })
  .meta({ id: 'EmbeddedFace', description: 'A detected face with its embedding.' }) satisfies z.ZodType<Json<EmbeddedFace>>;

export const embeddedBoxSchema = z
  .object({
    box: boxSchema,
    aligned: z.boolean().meta({ description: 'Whether the crop was aligned with landmarks (sent or detected around the box).', example: true }),
    // Written out rather than a reference: OpenAPI 3.0 cannot mark a bare $ref nullable.
    landmarks: fivePoints()
      .nullable()
      .meta({ description: 'The landmarks the crop was aligned with; null for a plain square crop.', example: landmarksSchema.meta()?.example }),
    embedding: embeddingSchema,
  })
  .meta({ id: 'EmbeddedBox', description: 'One box sent to /v1/embed (clamped to the image) with its embedding.' }) satisfies z.ZodType<
  Json<EmbeddedBox>
>;

const imageField = z.string().meta({ format: 'binary', description: 'The photo: JPEG, PNG, WebP, AVIF, GIF (first frame) or TIFF.' });

export const imageUploadBody = z.object({ image: imageField }).meta({ description: 'multipart/form-data' });

export const embedUploadBody = z.object({
  image: imageField,
  // An empty example, or Swagger UI would prefill the field ("string", or a box) and a plain
  // "Execute" would send it instead of embedding the whole image.
  boxes: z.string().optional().meta({
    example: '',
    description:
      'Optional JSON: `[[x1,y1,x2,y2], ...]` or `[{"box":[x1,y1,x2,y2], "landmarks":[[x,y] x5]}, ...]`. Leave it out to embed the whole image.',
  }),
});

/** /v1/detect and /v1/faces share the detection knobs. */
export const detectQuery = detectOptionsSchema;
export const embedQuery = alignOptionSchema;

export const detectResponse = z
  .object({ model: modelSchema, image: imageSize, faces: z.array(faceSchema).meta({ description: 'Largest first.' }) })
  .meta({ id: 'DetectResponse', description: 'The faces found, largest first.' });

export const facesResponse = z
  .object({ model: modelSchema, image: imageSize, faces: z.array(embeddedFaceSchema).meta({ description: 'Largest first.' }) })
  .meta({ id: 'FacesResponse', description: 'Every face, largest first, with its embedding.' });

export const embedResponse = z
  .object({ model: modelSchema, image: imageSize, faces: z.array(embeddedBoxSchema).meta({ description: 'In the order sent.' }) })
  .meta({ id: 'EmbedResponse', description: 'One embedding per box, in the order sent (or one for the whole image).' });

export const errorSchema = z
  .object({
    statusCode: z.number().int().min(400).max(599).meta({ description: 'The HTTP status, repeated.', example: 400 }),
    code: z.enum(errorCodes).meta({ description: 'Stable machine-readable code (see the README for each).', example: 'INVALID_PARAMETER' }),
    error: z.string().meta({ description: 'HTTP status text.', example: 'Bad Request' }),
    message: z.string().meta({ description: 'What went wrong, for humans.', example: 'querystring parameter "min_score" is invalid: Too big: expected number to be <=1' }),
  })
  .meta({ id: 'Error', description: 'Every error response has this shape.' });

/** An error response: the shared `Error` schema, described and exemplified for one status. */
const errorResponse = (description: string, example: { code: (typeof errorCodes)[number]; error: string; message: string }, statusCode: number) => ({
  description,
  content: { 'application/json': { schema: errorSchema, example: { statusCode, ...example } } },
});

/** Every error response has the same shape; each status documents its typical cause. */
export const errorResponses = {
  400: errorResponse('Bad or missing input: no image part, bad boxes, a bad query parameter.', {
    code: 'INVALID_PARAMETER',
    error: 'Bad Request',
    message: 'querystring parameter "min_score" is invalid: Too big: expected number to be <=1',
  }, 400),
  401: errorResponse('API keys are set and the request has no valid key (see WWW-Authenticate).', {
    code: 'UNAUTHORIZED',
    error: 'Unauthorized',
    message: 'the API key is not valid',
  }, 401),
  408: errorResponse('The upload stalled, or took longer than LUMEN_FACE_UPLOAD_TIMEOUT; the connection is closed.', {
    code: 'REQUEST_TIMEOUT',
    error: 'Request Timeout',
    message: 'the request sent nothing for 30 s (LUMEN_FACE_REQUEST_TIMEOUT)',
  }, 408),
  413: errorResponse('The upload has too many bytes, or the image too many pixels.', {
    code: 'IMAGE_TOO_LARGE',
    error: 'Payload Too Large',
    message: 'image is 20000x20000 = 400000000 pixels; the limit is 100000000 (LUMEN_FACE_MAX_PIXELS)',
  }, 413),
  415: errorResponse('Not multipart/form-data, or not a decodable image.', {
    code: 'UNSUPPORTED_IMAGE',
    error: 'Unsupported Media Type',
    message: 'expected a JPEG, PNG, WebP, AVIF, GIF or TIFF image, received a PDF document',
  }, 415),
  421: errorResponse('The Host header names no host in LUMEN_FACE_ALLOWED_HOSTS.', {
    code: 'MISDIRECTED_REQUEST',
    error: 'Misdirected Request',
    message: 'expected a Host in LUMEN_FACE_ALLOWED_HOSTS, received "evil.example"',
  }, 421),
  500: errorResponse('A bug on our side.', {
    code: 'INTERNAL_ERROR',
    error: 'Internal Server Error',
    message: 'internal error; quote request id req-1a when reporting it',
  }, 500),
  503: errorResponse('The models are not loaded yet, or too many images are in progress (see Retry-After).', {
    code: 'NOT_READY',
    error: 'Service Unavailable',
    message: 'the models are still loading; retry shortly (see /readyz)',
  }, 503),
};

/** Batch routes: many image parts in, one entry per image out, in order. */
export const batchUploadBody = z.object({
  image: z.array(imageField).meta({ description: 'The photos, each a file part named `image` (or `file`), repeated.' }),
}).meta({ description: 'multipart/form-data' });

// Named: both batch routes answer it, and a client handles it in one place.
const batchError = z.object({
  error: errorSchema.pick({ statusCode: true, code: true, message: true })
    .meta({ description: 'Why this image failed; the other images are unaffected.' }),
}).meta({
  id: 'BatchError',
  description: 'The entry of an image that failed, in place of its faces.',
  example: { error: { statusCode: 415, code: 'UNSUPPORTED_IMAGE', message: 'expected a JPEG, PNG, WebP, AVIF, GIF or TIFF image, received a PDF document' } },
});

const batchResponse = <F extends z.ZodType>(face: F, id: string, description: string) => z.object({
  model: modelSchema,
  results: z.array(z.union([z.object({ image: imageSize, faces: z.array(face) }), batchError]))
    .meta({ description: 'One entry per image part, in the order sent.' }),
}).meta({ id, description });

export const facesBatchResponse = batchResponse(embeddedFaceSchema, 'FacesBatchResponse', 'For each image, in order: its faces with embeddings, or its error.');
export const detectBatchResponse = batchResponse(faceSchema, 'DetectBatchResponse', 'For each image, in order: its faces, or its error.');

/** /v1/verify: two photos as multipart, or two embeddings as JSON. */
const embeddingInput = (name: string) =>
  z.array(z.number()).min(1).max(4096).meta({ description: `The ${name} embedding, from this model (same dimension).` });

const verifyUploadBody = z
  .object({
    image1: imageField.meta({ format: 'binary', description: 'The first photo; its largest face is compared.' }),
    image2: imageField.meta({ format: 'binary', description: 'The second photo; its largest face is compared.' }),
  })
  .meta({ description: 'Two photos, as the file parts image1 and image2.' });

export const verifyEmbeddingsBody = z
  .strictObject({ embedding1: embeddingInput('first'), embedding2: embeddingInput('second') })
  .meta({ description: 'Two embeddings of this model.', example: { embedding1: [0.0123, -0.0456, 0.0789, 0.0012], embedding2: [0.0101, -0.0432, 0.0811, 0.0034] } });

/** Each media type with its own fields, so a client sees which fields go with which. */
export const verifyBody = { content: { 'multipart/form-data': { schema: verifyUploadBody }, 'application/json': { schema: verifyEmbeddingsBody } } };

const verifyFaceSchema = faceSchema
  .extend({ image: z.enum(['image1', 'image2']).meta({ description: 'The input the face comes from.', example: 'image1' }) })
  .meta({ id: 'VerifyFace', description: 'The largest face of one of the two images, and which one.' });

export const verifyResponse = z
  .object({
    model: modelSchema,
    similarity: z.number().meta({ description: 'Cosine similarity of the two embeddings, -1 to 1.', example: 0.6213 }),
    same_person: z.boolean().nullable().meta({ description: 'similarity >= threshold; null when no threshold is known for the model.', example: true }),
    threshold: z.number().nullable().meta({
      description: 'LUMEN_FACE_MATCH_THRESHOLD, or the value measured for the pack; null when neither exists.',
      example: 0.42,
    }),
    faces: z.array(verifyFaceSchema).meta({ description: 'The largest face of each image (empty when embeddings were sent).' }),
  })
  .meta({ id: 'VerifyResponse', description: 'Whether the two faces are the same person.' });

export const verifyErrorResponses = {
  ...errorResponses,
  422: errorResponse('One of the images shows no face.', {
    code: 'NO_FACE',
    error: 'Unprocessable Entity',
    message: 'no face found in "image2"; each image must show at least one face',
  }, 422),
};
