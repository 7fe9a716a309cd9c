import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { isSafeSegment, PACK_NAME_EXPECTED } from '../models/names.js';
import { BOOLEAN_WORDS, decimalFromText, integerFromText, parseBoolean } from '../validation.js';

/**
 * The text parsers of the configuration table: each reads one variable's text (or an option given to
 * createBackend, turned to text first) and says what it expected when it cannot. Numbers follow the one
 * text grammar of src/validation.ts, shared with the query knobs.
 */

export type TextParser<T> = z.ZodType<T, string>;

const fail = (ctx: z.RefinementCtx, message: string) => {
  ctx.addIssue({ code: 'custom', message });
  return z.NEVER;
};

export const bool = z.string().transform((s, ctx) => parseBoolean(s) ?? fail(ctx, BOOLEAN_WORDS));

export const int = (min: number, max = Number.MAX_SAFE_INTEGER, what = `an integer from ${min} to ${max}`) =>
  z.string().transform((s, ctx) => {
    const n = integerFromText(s);
    return n === undefined || n < min || n > max ? fail(ctx, what) : n;
  });

export const positiveSeconds = z.string().transform((s, ctx) => {
  const n = decimalFromText(s);
  return n === undefined || n <= 0 ? fail(ctx, 'a positive number of seconds, e.g. 30 or 2.5') : n;
});

export const cosineThreshold = z.string().transform((s, ctx) => {
  const n = decimalFromText(s);
  return n === undefined || n < -1 || n > 1 ? fail(ctx, 'a cosine similarity from -1 to 1, e.g. 0.42') : n;
});

export const nonEmpty = (what: string) => z.string().transform((s, ctx) => (s.trim() === '' ? fail(ctx, what) : s.trim()));

export const httpUrl = z.string().transform((s, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(s.trim());
  } catch {
    /* reported below */
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    return fail(ctx, 'an http(s) URL, e.g. https://huggingface.co/Lumilio-Photos');
  }
  return s.trim().replace(/\/+$/, '');
});

export const oneOf = <T extends string>(values: readonly T[]) =>
  z.string().transform((s, ctx) => {
    const v = s.trim().toLowerCase() as T;
    return values.includes(v) ? v : fail(ctx, `one of ${values.join(', ')}`);
  });

export const packName = z.string().transform((s, ctx) => (isSafeSegment(s.trim()) ? s.trim() : fail(ctx, PACK_NAME_EXPECTED)));

const DEVICE_PATTERN = /^(cpu|cuda|cuda:\d+|rknpu|rknpu\d+)$/;
export const device = z.string().transform((s, ctx) => {
  const v = s.trim().toLowerCase();
  return DEVICE_PATTERN.test(v) ? v : fail(ctx, 'a device hint: cpu, cuda, cuda:N, rknpu or rknpuN');
});

const sizeOverride = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : integerFromText(v);
  return n === undefined || !Number.isSafeInteger(n) || n < 1 ? fail(ctx, 'a positive integer (a number or a string such as "112")') : n;
});

const CORE_MASKS: Record<string, number> = { auto: 0, core_0: 1, core_1: 2, core_2: 4, core_0_1: 3, core_0_1_2: 7, all: 0xffff };
const coreMask = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const s =
    typeof v === 'string'
      ? v
          .trim()
          .toLowerCase()
          .replace(/^rknn_npu_core_/, '')
      : '';
  // A mask is bits, so hexadecimal (0xffff, as Rockchip writes it) is accepted here and only here.
  const n = typeof v === 'number' ? v : s in CORE_MASKS ? CORE_MASKS[s] : /^0x[0-9a-f]+$/.test(s) ? Number(s) : integerFromText(s);
  if (n === undefined || ![0, 1, 2, 4, 3, 7, 0xffff].includes(n)) {
    return fail(ctx, 'an RKNN core mask: 0 (auto), 1, 2, 4, 3, 7, 0xffff, or a name such as "core_0_1"');
  }
  return n;
});

const flag = z
  .union([z.boolean(), z.number(), z.string()])
  .transform((v, ctx) => (typeof v === 'boolean' ? v : (parseBoolean(String(v)) ?? fail(ctx, BOOLEAN_WORDS))));

export const extraSchema = z.looseObject({
  rknn_target: z.string().trim().toLowerCase().min(1, 'a non-empty SoC name such as "rk3588"').optional(),
  rknn_device_id: z.union([z.string(), z.number()]).transform(String).optional(),
  rknn_perf_debug: flag.optional(),
  rknn_core_mask: coreMask.optional(),
  rknn_contexts: sizeOverride.optional(),
  rec_input_h: sizeOverride.optional(),
  rec_input_w: sizeOverride.optional(),
});
export type Extra = z.output<typeof extraSchema>;

const JSON_OBJECT = 'a JSON object, e.g. {"rec_input_h": 112}';
export const extra = z.string().transform((s, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch {
    return fail(ctx, JSON_OBJECT);
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return fail(ctx, JSON_OBJECT);
  const result = extraSchema.safeParse(parsed);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', message: `key "${issue.path.join('.')}" to be ${issue.message}` });
    return z.NEVER;
  }
  return result.data;
});

/** API keys travel in a header, so they are visible ASCII; a comma separates them in LUMEN_FACE_API_KEYS. */
const API_KEY_PATTERN = /^[\x21-\x2b\x2d-\x7e]+$/;
const API_KEYS_EXPECTED = 'API keys of visible ASCII characters (no spaces or commas)';

/** `entries` keep their places (skipped lines as ''), so a bad key is named by its line or position as written. */
const keyList = (entries: string[], where: string, ctx: z.RefinementCtx) => {
  const numbered = entries.map((k, i) => ({ key: k.trim(), at: i + 1 })).filter(({ key }) => key !== '');
  const keys = numbered.map(({ key }) => key);
  const bad = numbered.find(({ key }) => !API_KEY_PATTERN.test(key));
  if (keys.length === 0 || bad) {
    // Never echo a key: name only the position of the bad one.
    const problem = keys.length === 0 ? 'there is no key' : `the key at ${where} ${bad!.at} is not`;
    return fail(ctx, `${API_KEYS_EXPECTED}, but ${problem}`);
  }
  return keys;
};

export const apiKeys = z.string().transform((s, ctx) => keyList(s.split(','), 'position', ctx));

/** One key per line (a Docker or Kubernetes secret); blank lines and `#` comments are skipped. */
export const apiKeysFile = z.string().transform((s, ctx) => {
  const file = s.trim();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    return fail(ctx, `a readable file with one API key per line; reading it failed: ${(err as Error).message}`);
  }
  const keys = keyList(
    text.split(/\r?\n/).map((line) => (line.trim().startsWith('#') ? '' : line)),
    'line',
    ctx,
  );
  return keys === z.NEVER ? z.NEVER : { path: file, keys };
});

export const origins = z.string().transform((s, ctx) => {
  if (s.trim() === '*') return '*' as const;
  const list = s
    .split(',')
    .map((o) => o.trim())
    .filter((o) => o !== '');
  const out: string[] = [];
  for (const origin of list) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      /* reported below */
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username || origin.endsWith('/')) {
      return fail(ctx, `\`*\` or comma-separated origins such as https://photos.example.com, but ${JSON.stringify(origin)} is not one`);
    }
    out.push(url.origin);
  }
  return out.length === 0 ? fail(ctx, '`*` or comma-separated origins such as https://photos.example.com') : out;
});

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/;
export const hostNames = z.string().transform((s, ctx) => {
  const out: string[] = [];
  for (const entry of s
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h !== '')) {
    const ipv6 = /^\[?([0-9a-f:.]+)\]?$/.exec(entry);
    if (ipv6 && entry.includes(':')) out.push(`[${ipv6[1]}]`);
    else if (HOST_NAME.test(entry)) out.push(entry.replace(/\.$/, ''));
    else return fail(ctx, `comma-separated host names without port, such as localhost,photos.lan, but ${JSON.stringify(entry)} is not one`);
  }
  return out.length === 0 ? fail(ctx, 'comma-separated host names without port, such as localhost,photos.lan') : out;
});

/** A comma-separated list each of whose entries `parse` accepts, kept as text. */
export const checkedList = (parse: (s: string) => { errors: string[] }, what: string) =>
  z.string().transform((s, ctx) => {
    const { errors } = parse(s);
    if (errors.length > 0) {
      ctx.addIssue({ code: 'custom', message: `${what}, but ${JSON.stringify(errors[0])} is not one` });
      return z.NEVER;
    }
    return s
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean);
  });
