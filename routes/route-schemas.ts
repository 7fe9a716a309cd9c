import { z } from 'zod';
import { IMAGE_PART_NAMES, type PartsSpec } from '../plugins/body.js';
import { detectOptionsSchema, errorCodes, PRECISIONS, RUNTIMES } from '../src/index.js';
import { embeddingFormatQuery } from './json-shapes.js';
import type { BackendInfo, Box, EmbeddedFace, ImageSize, Landmarks, Point, QualifiedFace } from '../src/index.js';

/**
 * HTTP schemas: the single source for validation, TypeScript types and the OpenAPI document.
 * Each shape a client meets twice has an `id`, which makes it a named component schema.
 * Each is tied to the library's type with `satisfies`: a schema that stops matching what the
 * library returns fails to compile (the handlers check the other direction when they return it).
 */

/** The library's shapes as JSON carries them: vectors are number arrays. */
export type Json<T> = { [K in keyof T]: T[K] extends Float32Array ? number[] | string : T[K] };

const pixels = (description: string, example: number) => z.number().meta({ description, example });
export const count = (description: string, example: number) => z.number().int().nonnegative().meta({ description, example });

export const boxSchema = z.tuple([z.number(), z.number(), z.number(), z.number()]).meta({
  id: 'Box',
  description: '[x1, y1, x2, y2] in pixels of the EXIF-upright image.',
  example: [465.15, 265.21, 573.32, 416.03],
}) satisfies z.ZodType<Box>;

export const pointSchema = z
  .tuple([z.number(), z.number()])
  .meta({ id: 'Point', description: '[x, y] in pixels of the EXIF-upright image.', example: [491.62, 318.87] }) satisfies z.ZodType<Point>;

export const fivePoints = () => z.tuple([pointSchema, pointSchema, pointSchema, pointSchema, pointSchema]);

export const landmarksSchema = fivePoints().meta({
  id: 'Landmarks',
  description: 'Five [x, y] points: left eye, right eye, nose, left mouth corner, right mouth corner.',
  example: [
    [491.62, 318.87],
    [540.71, 331.94],
    [507.13, 360.78],
    [483.81, 366.92],
    [532.06, 378.2],
  ],
}) satisfies z.ZodType<Landmarks>;

export const embeddingSchema = z
  .union([
    z.array(z.number()),
    z.string().meta({ format: 'byte', description: 'With `embedding_format=base64`: the float32 values, little-endian, in base64.' }),
  ])
  .meta({
    id: 'Embedding',
    example: [0.0123, -0.0456, 0.0789, 0.0012],
    description:
      'L2-normalised embedding of `model.dim` float32 values; compare two with a dot product (cosine). Numbers by default; base64 of little-endian float32 with `embedding_format=base64`.',
  });

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
  z
    .number()
    .nullable()
    .meta({ description: `${description}, in degrees, from the five landmarks; null when they give no pose.`, example });

export const qualitySchema = z
  .object({
    yaw: angle("Left-right head turn, positive towards the image's right; 0 is frontal", -4.2),
    pitch: angle('Up-down head tilt, positive up; 0 is level', 3.1),
    roll: angle('In-plane rotation of the eye line, positive clockwise; 0 is level', 12.5),
    sharpness: z
      .number()
      .nonnegative()
      .meta({ description: 'Variance of the Laplacian on the aligned 112x112 gray face; comparable across face sizes, higher is sharper.', example: 312.4 }),
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

export const errorSchema = z
  .object({
    statusCode: z.number().int().min(400).max(599).meta({ description: 'The HTTP status, repeated.', example: 400 }),
    code: z.enum(errorCodes).meta({ description: 'Stable machine-readable code (see the README for each).', example: 'INVALID_PARAMETER' }),
    error: z.string().meta({ description: 'HTTP status text.', example: 'Bad Request' }),
    message: z
      .string()
      .meta({ description: 'What went wrong, for humans.', example: 'querystring parameter "min_score" is invalid: Too big: expected number to be <=1' }),
  })
  .meta({ id: 'Error', description: 'Every error response has this shape.' });

/** An error response: the shared `Error` schema, described and exemplified for one status. */
export const errorResponse = (description: string, example: { code: (typeof errorCodes)[number]; error: string; message: string }, statusCode: number) => ({
  description,
  content: { 'application/json': { schema: errorSchema, example: { statusCode, ...example } } },
});

/** Every error response has the same shape; each status documents its typical cause. */
export const errorResponses = {
  400: errorResponse(
    'Bad or missing input: no image part, bad boxes, a bad query parameter.',
    {
      code: 'INVALID_PARAMETER',
      error: 'Bad Request',
      message: 'querystring parameter "min_score" is invalid: Too big: expected number to be <=1',
    },
    400,
  ),
  401: errorResponse(
    'API keys are set and the request has no valid key (see WWW-Authenticate).',
    {
      code: 'UNAUTHORIZED',
      error: 'Unauthorized',
      message: 'the API key is not valid',
    },
    401,
  ),
  408: errorResponse(
    'The upload stalled, or took longer than LUMEN_FACE_UPLOAD_TIMEOUT; the connection is closed.',
    {
      code: 'REQUEST_TIMEOUT',
      error: 'Request Timeout',
      message: 'the request sent nothing for 30 s (LUMEN_FACE_REQUEST_TIMEOUT)',
    },
    408,
  ),
  413: errorResponse(
    'The upload has too many bytes, or the image too many pixels.',
    {
      code: 'IMAGE_TOO_LARGE',
      error: 'Payload Too Large',
      message: 'image is 20000x20000 = 400000000 pixels; the limit is 100000000 (LUMEN_FACE_MAX_PIXELS)',
    },
    413,
  ),
  415: errorResponse(
    'Not multipart/form-data, or not a decodable image.',
    {
      code: 'UNSUPPORTED_IMAGE',
      error: 'Unsupported Media Type',
      message: 'expected a JPEG, PNG, WebP, AVIF, GIF or TIFF image, received a PDF document',
    },
    415,
  ),
  421: errorResponse(
    'The Host header names no host in LUMEN_FACE_ALLOWED_HOSTS.',
    {
      code: 'MISDIRECTED_REQUEST',
      error: 'Misdirected Request',
      message: 'expected a Host in LUMEN_FACE_ALLOWED_HOSTS, received "evil.example"',
    },
    421,
  ),
  500: errorResponse(
    'A bug on our side.',
    {
      code: 'INTERNAL_ERROR',
      error: 'Internal Server Error',
      message: 'internal error; quote request id req-1a when reporting it',
    },
    500,
  ),
  503: errorResponse(
    'The models are not loaded yet, or too many images are in progress (see Retry-After).',
    {
      code: 'NOT_READY',
      error: 'Service Unavailable',
      message: 'the models are still loading; retry shortly (see /readyz)',
    },
    503,
  ),
};

const imageField = z.string().meta({ format: 'binary', description: 'The photo: JPEG, PNG, WebP, AVIF, GIF (first frame) or TIFF.' });
const base64Image = (description: string) =>
  z.string().meta({ format: 'byte', description: `${description} In base64; a data-URL prefix (data:image/jpeg;base64,) is accepted.` });

/** A photo part for multipart/form-data, and its base64 twin for application/json. */
export const imageFields = (description = 'The photo.') => ({
  multipart: imageField.meta({ format: 'binary', description: `${description} JPEG, PNG, WebP, AVIF, GIF (first frame) or TIFF.` }),
  json: base64Image(description),
});

/** Each media type with its own fields, so a client sees which fields go with which. */
export const uploadBody = (multipart: z.ZodType, json: z.ZodType) => ({
  content: { 'multipart/form-data': { schema: multipart }, 'application/json': { schema: json } },
});

/** The body of /v1/detect and /v1/faces: one photo, and optionally the query's knobs in JSON. */
export const photoUrl = z.string().meta({
  format: 'uri',
  description: 'Instead of `image`: a URL the service fetches the photo from, when the operator allows its origin (LUMEN_FACE_URL_FETCH_ALLOW).',
});

export const imageUploadBody = uploadBody(
  z.object({ image: imageFields().multipart }),
  z
    .object({ image: imageFields().json.optional(), url: photoUrl.optional() })
    .meta({ description: 'The photo as `image` (base64) or `url`. The query parameters may also be given as keys of this object.' }),
);

/** The detection knobs, shared by /v1/detect, /v1/faces and the batch routes. */
export const detectQuery = detectOptionsSchema;
/** The routes that answer embeddings add the embedding format. */
export const facesQuery = detectOptionsSchema.extend(embeddingFormatQuery.shape);

/** What the single-photo routes read: one file part named "image" (or "file"), or "image" (base64) or "url" in JSON. */
export const ONE_IMAGE: PartsSpec = { files: IMAGE_PART_NAMES, maxFiles: 1, jsonUrl: true };
