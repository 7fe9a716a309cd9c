import { z } from 'zod';
import { alignOptionSchema, detectOptionsSchema } from '../src/pipeline/options.js';

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

const detectedFace = z.object({ box, score: z.number(), landmarks: landmarks.nullable() });

export const detectResponse = z
  .object({ image: imageSize, faces: z.array(detectedFace) })
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
