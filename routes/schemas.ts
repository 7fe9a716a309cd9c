import { z } from 'zod';
import { alignOptionSchema, detectOptionsSchema } from '../src/pipeline/options.js';

/** HTTP schemas: the single source for validation, TypeScript types and the OpenAPI document. */

export const errorSchema = z
  .object({
    statusCode: z.number().int().meta({ example: 400 }),
    code: z.string().meta({ description: 'Stable machine-readable code.', example: 'INVALID_BOXES' }),
    error: z.string().meta({ description: 'HTTP status text.', example: 'Bad Request' }),
    message: z.string().meta({ example: 'box 0 must have x2 > x1 and y2 > y1' }),
  })
  .meta({ id: 'Error', description: 'Every error response has this shape.' });

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

export const detectQuery = detectOptionsSchema;
export const facesQuery = detectOptionsSchema;
export const embedQuery = alignOptionSchema;

const detectedFace = z.object({ box, score: z.number(), landmarks: landmarks.nullable() });

export const detectResponse = z.object({ image: imageSize, faces: z.array(detectedFace) });

export const facesResponse = z.object({
  model: modelSchema,
  image: imageSize,
  faces: z.array(detectedFace.extend({ embedding })),
});

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
});

export const errorResponses = {
  400: errorSchema,
  413: errorSchema,
  415: errorSchema,
  500: errorSchema,
  503: errorSchema,
};
