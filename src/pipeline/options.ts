import { z } from 'zod';
import { LumenError } from '../errors.js';

/**
 * Detection knobs. The same schema validates HTTP query strings (strings are coerced),
 * types the programmatic API and documents OpenAPI.
 */
export const detectOptionsSchema = z.object({
  min_score: z.coerce.number().min(0).max(1).default(0.5)
    .describe('Smallest detection score kept, 0 to 1.'),
  max_faces: z.coerce.number().int().min(1).optional()
    .describe('Keep at most this many faces, the largest ones. Default: all.'),
  min_size: z.coerce.number().min(0).default(0)
    .describe('Drop faces whose box is smaller than this many pixels on its shorter side.'),
  nms: z.coerce.number().gt(0).max(1).default(0.4)
    .describe('IoU above which overlapping detections are merged (non-maximum suppression).'),
  max_yaw: z.coerce.number().min(0).max(90).optional()
    .describe('Drop faces turned further than this many degrees left or right (|quality.yaw|). Default: keep all.'),
  min_sharpness: z.coerce.number().min(0).optional()
    .describe('Drop faces whose quality.sharpness (variance of the Laplacian on the aligned face) is below this. Default: keep all.'),
});

export type DetectOptions = z.output<typeof detectOptionsSchema>;
export type DetectOptionsInput = z.input<typeof detectOptionsSchema>;

/** The `align` query parameter of /v1/embed (the programmatic API takes a boolean). */
export const alignOptionSchema = z.object({
  align: z
    .enum(['true', 'false', '1', '0'])
    .default('true')
    .transform((v) => v === 'true' || v === '1')
    .describe('Align each face to the ArcFace template with its landmarks (detected when not sent). false gives a plain square crop.'),
});

/** Validate knobs given to the programmatic API (HTTP validates them in the route schema). */
export function parseDetectOptions(options: DetectOptionsInput): DetectOptions {
  const parsed = detectOptionsSchema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = issue.path.join('.');
  throw new LumenError('INVALID_OPTION', `${name} is invalid: ${issue.message} (received ${JSON.stringify((options as Record<string, unknown>)[name])})`);
}

