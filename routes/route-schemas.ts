import { z } from 'zod';
import { alignOptionSchema, detectOptionsSchema } from '../src/index.js';

/** HTTP schemas: the single source for validation, TypeScript types and the OpenAPI document. */

const errorShape = (status: number, code: string, message: string) =>
  z.object({
    statusCode: z.number().int().meta({ example: status }),
    code: z.string().meta({ description: 'Stable machine-readable code.', example: code }),
    error: z.string().meta({ description: 'HTTP status text.' }),
    message: z.string().meta({ description: 'What went wrong, for humans.', example: message }),
  });

const box = z
  .tuple([z.number(), z.number(), z.number(), z.number()])
  .meta({ description: '[x1, y1, x2, y2] in pixels of the EXIF-upright image.', example: [120.5, 80.25, 260, 250.75] });
const point = z.tuple([z.number(), z.number()]);
const landmarks = z
  .array(point)
  .length(5)
  .meta({ description: 'Five [x, y] points: left eye, right eye, nose, left mouth corner, right mouth corner.' });
const embedding = z.array(z.number()).meta({ description: 'L2-normalised embedding; compare two with a dot product (cosine).' });

export const imageSize = z.object({ width: z.number().int(), height: z.number().int() }).meta({ description: 'Upright image size in pixels.' });

export const modelSchema = z.object({
  name: z.string(),
  runtime: z.string(),
  precision: z.string(),
  dim: z.number().int(),
});

const imageField = z.string().meta({ format: 'binary', description: 'The photo: JPEG, PNG, WebP, AVIF, GIF (first frame) or TIFF.' });

export const imageUploadBody = z.object({ image: imageField }).meta({ description: 'multipart/form-data' });

export const embedUploadBody = z.object({
  image: imageField,
  boxes: z.string().optional().meta({
    description:
      'Optional JSON: `[[x1,y1,x2,y2], ...]` or `[{"box":[x1,y1,x2,y2], "landmarks":[[x,y] x5]}, ...]`. Without it the whole image is embedded.',
    example: '[[10,10,120,140]]',
  }),
});

/** /v1/detect and /v1/faces share the detection knobs. */
export const detectQuery = detectOptionsSchema;
export const embedQuery = alignOptionSchema;

const angle = (what: string) => z.number().nullable().meta({ description: `${what}, in degrees; null when the landmarks give no pose.` });
export const qualitySchema = z
  .object({
    yaw: angle('Turn left/right from the five landmarks, positive towards the image\'s right'),
    pitch: angle('Tilt up/down from the five landmarks, positive up'),
    roll: angle('In-plane rotation of the eye line, positive clockwise'),
    sharpness: z.number().meta({ description: 'Variance of the Laplacian on the aligned 112x112 gray face; higher is sharper.', example: 412.37 }),
    size: z.number().meta({ description: 'Shorter side of the box in pixels.', example: 108.1 }),
  })
  .meta({ description: 'Pose, sharpness and size, for dropping profile, blurry or tiny faces.' });

const detectedFace = z.object({ box, score: z.number(), landmarks: landmarks.nullable(), quality: qualitySchema });

export const detectResponse = z
  .object({ model: modelSchema, image: imageSize, faces: z.array(detectedFace) })
  .describe('The faces found, largest first.');

export const facesResponse = z
  .object({
    model: modelSchema,
    image: imageSize,
    faces: z.array(detectedFace.extend({ embedding })),
  })
  .describe('Every face, largest first, with its embedding.');

export const embedResponse = z.object({
  model: modelSchema,
  image: imageSize,
  faces: z.array(
    z.object({
      box,
      aligned: z.boolean().meta({ description: 'Whether the crop was aligned with landmarks (sent or detected around the box).' }),
      landmarks: landmarks.nullable(),
      embedding,
    }),
  ),
}).describe('One embedding per box, in the order sent (or one for the whole image).');

/** Every error response has the same shape; each status documents its typical cause. */
export const errorResponses = {
  400: errorShape(400, 'INVALID_PARAMETER', 'querystring parameter "min_score" is invalid: Too big: expected number to be <=1')
    .describe('Bad or missing input: no image part, bad boxes, a bad query parameter.'),
  408: errorShape(408, 'REQUEST_TIMEOUT', 'the request sent nothing for 30 s (LUMEN_FACE_REQUEST_TIMEOUT)')
    .describe('The upload stalled, or took longer than LUMEN_FACE_UPLOAD_TIMEOUT; the connection is closed.'),
  413: errorShape(413, 'IMAGE_TOO_LARGE', 'image is 20000x20000 = 400000000 pixels; the limit is 100000000 (LUMEN_FACE_MAX_PIXELS)')
    .describe('The upload has too many bytes, or the image too many pixels.'),
  415: errorShape(415, 'UNSUPPORTED_IMAGE', 'expected a JPEG, PNG, WebP, AVIF, GIF or TIFF image, received a PDF document')
    .describe('Not multipart/form-data, or not a decodable image.'),
  500: errorShape(500, 'INTERNAL_ERROR', 'internal error; quote request id req-1a when reporting it').describe('A bug on our side.'),
  503: errorShape(503, 'NOT_READY', 'the models are still loading; retry shortly (see /readyz)')
    .describe('The models are not loaded yet, or too many images are in progress (see Retry-After).'),
  401: errorShape(401, 'UNAUTHORIZED', 'the API key is not valid')
    .describe('API keys are set and the request has no valid key (see WWW-Authenticate).'),
  421: errorShape(421, 'MISDIRECTED_REQUEST', 'expected a Host in LUMEN_FACE_ALLOWED_HOSTS, received "evil.example"')
    .describe('The Host header names no host in LUMEN_FACE_ALLOWED_HOSTS.'),
};

/** Batch routes: many image parts in, one entry per image out, in order. */
export const batchUploadBody = z.object({
  image: z.array(imageField).meta({ description: 'The photos, each a file part named `image` (or `file`), repeated.' }),
}).meta({ description: 'multipart/form-data' });

const batchError = z.object({
  error: z.object({ statusCode: z.number().int(), code: z.string(), message: z.string() })
    .meta({ description: 'Why this image failed; the other images are unaffected.' }),
});

const batchResponse = <F extends z.ZodType>(face: F, what: string) => z.object({
  model: modelSchema,
  results: z.array(z.union([z.object({ image: imageSize, faces: z.array(face) }), batchError]))
    .meta({ description: 'One entry per image part, in the order sent.' }),
}).describe(what);

export const facesBatchResponse = batchResponse(detectedFace.extend({ embedding }), 'For each image, in order: its faces with embeddings, or its error.');
export const detectBatchResponse = batchResponse(detectedFace, 'For each image, in order: its faces, or its error.');
/** /v1/verify: two photos as multipart, or two embeddings as JSON. */
const embeddingInput = (name: string) =>
  z.array(z.number()).min(1).max(4096).meta({ description: `JSON body only: the ${name} embedding, from this model (same dimension).` });

export const verifyBody = z
  .object({
    image1: imageField.optional().meta({ format: 'binary', description: 'multipart only: the first photo; its largest face is compared.' }),
    image2: imageField.optional().meta({ format: 'binary', description: 'multipart only: the second photo; its largest face is compared.' }),
    embedding1: embeddingInput('first').optional(),
    embedding2: embeddingInput('second').optional(),
  })
  .meta({ description: 'Either multipart/form-data with the file parts image1 and image2, or application/json with embedding1 and embedding2.' });

export const verifyEmbeddingsBody = z.strictObject({ embedding1: embeddingInput('first'), embedding2: embeddingInput('second') });

export const verifyResponse = z
  .object({
    model: modelSchema,
    similarity: z.number().meta({ description: 'Cosine similarity of the two embeddings, -1 to 1.', example: 0.6213 }),
    same_person: z.boolean().nullable().meta({ description: 'similarity >= threshold; null when no threshold is known for the model.' }),
    threshold: z.number().nullable().meta({
      description: 'LUMEN_FACE_MATCH_THRESHOLD, or the value measured for the pack; null when neither exists.',
      example: 0.42,
    }),
    faces: z.array(detectedFace.extend({ image: z.enum(['image1', 'image2']).meta({ description: 'The input the face comes from.' }) }))
      .meta({ description: 'The largest face of each image (empty when embeddings were sent).' }),
  })
  .describe('Whether the two faces are the same person.');

export const verifyErrorResponses = {
  ...errorResponses,
  422: errorShape(422, 'NO_FACE', 'no face found in "image2"; each image must show at least one face').describe('One of the images shows no face.'),
};
