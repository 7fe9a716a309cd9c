import { z } from 'zod';
import { LumenError } from '../errors.js';
import { BOOLEAN_WORDS, DECIMAL_TEXT, INTEGER_TEXT, invalid, parseBoolean } from '../validation.js';

/**
 * Detection knobs. The same schema validates HTTP query strings (read from text by readKnobs),
 * types the programmatic API and documents OpenAPI.
 */
export const detectOptionsSchema = z.object({
  min_score: z.number().min(0).max(1).default(0.5).describe('Smallest detection score kept, 0 to 1.'),
  max_faces: z
    .number()
    .int()
    .min(1)
    .optional()
    .describe('Keep at most this many faces, the largest ones. Default, and ceiling: LUMEN_FACE_MAX_FACES (256 unless configured).'),
  min_size: z.number().min(0).default(0).describe('Drop faces whose box is smaller than this many pixels on its shorter side.'),
  nms: z.number().gt(0).max(1).default(0.4).describe('IoU above which overlapping detections are merged (non-maximum suppression).'),
  max_yaw: z.coerce
    .number()
    .min(0)
    .max(90)
    .optional()
    .describe('Drop faces turned further than this many degrees left or right (|quality.yaw|). Default: keep all.'),
  min_sharpness: z.coerce
    .number()
    .min(0)
    .optional()
    .describe('Drop faces whose quality.sharpness (variance of the Laplacian on the aligned face) is below this. Default: keep all.'),
});

export type DetectOptions = z.output<typeof detectOptionsSchema>;
/** Knobs ready for the photo workers: checked once, with max_faces always set and never above LUMEN_FACE_MAX_FACES. */
export type PhotoOptions = DetectOptions & { max_faces: number };
/** Programmatic callers may also pass knobs as text, read as a query string would be. */
export type DetectOptionsInput = { [K in keyof z.input<typeof detectOptionsSchema>]?: z.input<typeof detectOptionsSchema>[K] | string };

/** The `align` query parameter of /v1/embed (the programmatic API takes a boolean). */
export const alignOptionSchema = z.object({
  align: z
    .boolean()
    .default(true)
    .describe(
      `Align each face to the ArcFace template with its landmarks (detected when not sent). false gives a plain square crop. Accepts ${BOOLEAN_WORDS}.`,
    ),
});

type Knobs = z.ZodObject;

/** The schema inside .optional() and .default() wrappers. */
function innerSchema(schema: z.ZodType): z.ZodType {
  let inner = schema;
  for (let def = inner.def as { innerType?: z.ZodType }; def.innerType; def = inner.def as { innerType?: z.ZodType }) inner = def.innerType;
  return inner;
}

/** What a knob accepts, in words, read from its schema: "a number above 0 and at most 1". */
export function expectedText(schema: z.ZodType): string {
  const inner = innerSchema(schema);
  if (inner instanceof z.ZodBoolean) return BOOLEAN_WORDS;
  if (inner instanceof z.ZodEnum) return `one of ${inner.options.join(', ')}`;
  if (!(inner instanceof z.ZodNumber)) return 'a value';
  let lower: { value: number; inclusive: boolean } | undefined;
  let upper: { value: number; inclusive: boolean } | undefined;
  for (const check of inner.def.checks ?? []) {
    const def = check._zod.def as { check: string; value?: number; inclusive?: boolean };
    if (def.check === 'greater_than') lower = { value: def.value!, inclusive: def.inclusive! };
    if (def.check === 'less_than') upper = { value: def.value!, inclusive: def.inclusive! };
  }
  const what = inner.isInt ? 'an integer (decimal digits)' : 'a decimal number';
  if (lower?.inclusive && upper?.inclusive) return `${what} from ${lower.value} to ${upper.value}`;
  const bounds = [
    lower && (lower.inclusive ? `at least ${lower.value}` : `above ${lower.value}`),
    upper && (upper.inclusive ? `at most ${upper.value}` : `below ${upper.value}`),
  ].filter(Boolean);
  return bounds.length ? `${what}, ${bounds.join(' and ')}` : what;
}

/** A knob's typed value from its text, or undefined when the text is not of its kind. */
function fromText(schema: z.ZodType, text: string): unknown {
  const inner = innerSchema(schema);
  const t = text.trim();
  if (inner instanceof z.ZodBoolean) return parseBoolean(t);
  if (inner instanceof z.ZodNumber) {
    if (!(inner.isInt ? INTEGER_TEXT : DECIMAL_TEXT).test(t)) return undefined;
    return Number(t);
  }
  return t;
}

export interface ReadKnobsOptions {
  /** The error code, and what to call a knob in messages ("query parameter", or '' for the bare name). */
  code: 'INVALID_PARAMETER' | 'INVALID_OPTION';
  what: string;
  /** Refuse names the schema does not know (HTTP), or ignore them (the programmatic API). */
  strict: boolean;
}

/**
 * Read knobs against their schema. Text is read strictly: decimal digits for integers, plain decimals
 * for numbers, the one boolean vocabulary; an empty value, a repeated one (an array, as a query string
 * parser gives it) and, when strict, an unknown name are refused with a message naming the knob.
 */
export function readKnobs<S extends Knobs>(schema: S, input: Record<string, unknown>, options: ReadKnobsOptions): z.output<S> {
  const fail = (message: string) => new LumenError(options.code, message);
  const labelOf = (name: string) => (options.what ? `${options.what} "${name}"` : name);
  const shape = schema.shape as Record<string, z.ZodType>;
  const accepted = Object.keys(shape);
  const values: Record<string, unknown> = {};
  for (const [name, raw] of Object.entries(input)) {
    // Own names only: `constructor` or `toString` would otherwise find Object.prototype's.
    const field = Object.hasOwn(shape, name) ? shape[name] : undefined;
    if (!field) {
      if (!options.strict) continue;
      const list = accepted.length ? `accepts ${accepted.map((n) => `"${n}"`).join(', ')}` : 'accepts none';
      throw fail(`unknown ${options.what} "${name}"; this endpoint ${list}`);
    }
    const label = labelOf(name);
    if (raw === undefined) continue;
    if (Array.isArray(raw)) throw fail(`${label} is given ${raw.length === 2 ? 'twice' : `${raw.length} times`}; give it once`);
    if (typeof raw === 'string') {
      const value = fromText(field, raw);
      if (raw.trim() === '' || value === undefined) throw fail(invalid(label, expectedText(field), raw));
      values[name] = value;
    } else {
      values[name] = raw;
    }
  }
  const parsed = schema.safeParse(values);
  if (parsed.success) return parsed.data;
  const name = String(parsed.error.issues[0].path[0]);
  throw fail(invalid(labelOf(name), expectedText(shape[name]), input[name]));
}

/** Validate knobs given to the programmatic API (HTTP reads them in the route's query validator). */
export function parseDetectOptions(options: DetectOptionsInput): DetectOptions {
  return readKnobs(detectOptionsSchema, options as Record<string, unknown>, { code: 'INVALID_OPTION', what: '', strict: false });
}

/**
 * The one place max_faces meets its ceiling: the caller's knobs, validated, with max_faces at most
 * LUMEN_FACE_MAX_FACES (and that when not given), so a query cannot multiply the work. The photo
 * workers take the result as it is and never parse again.
 */
export function photoOptions(options: DetectOptionsInput, maxFaces: number): PhotoOptions {
  const parsed = parseDetectOptions(options);
  return { ...parsed, max_faces: Math.min(parsed.max_faces ?? maxFaces, maxFaces) };
}
