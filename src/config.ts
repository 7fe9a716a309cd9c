import { readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { BOOLEAN_WORDS, invalid, parseBoolean } from './validation.js';

/**
 * Every LUMEN_FACE_* variable: its schema, default and documentation live here once.
 * This module is the only reader of process.env; the README table is checked against VARIABLES by a test.
 */

export type Env = Record<string, string | undefined>;

const bool = z
  .string()
  .transform((s, ctx) => {
    const value = parseBoolean(s);
    if (value !== undefined) return value;
    ctx.addIssue({ code: 'custom', message: BOOLEAN_WORDS });
    return z.NEVER;
  });

const int = (min: number, max = Number.MAX_SAFE_INTEGER, what = `an integer from ${min} to ${max}`) =>
  z.string().transform((s, ctx) => {
    const t = s.trim();
    const n = /^[+]?\d+$/.test(t) ? Number(t) : NaN;
    if (!Number.isSafeInteger(n) || n < min || n > max) {
      ctx.addIssue({ code: 'custom', message: what });
      return z.NEVER;
    }
    return n;
  });

const positiveSeconds = z.string().transform((s, ctx) => {
  const n = Number(s.trim());
  if (s.trim() === '' || !Number.isFinite(n) || n <= 0) {
    ctx.addIssue({ code: 'custom', message: 'a positive number of seconds, e.g. 30 or 2.5' });
    return z.NEVER;
  }
  return n;
});

const nonEmpty = (what: string) =>
  z.string().transform((s, ctx) => {
    if (s.trim() === '') {
      ctx.addIssue({ code: 'custom', message: what });
      return z.NEVER;
    }
    return s.trim();
  });

const httpUrl = z.string().transform((s, ctx) => {
  let url: URL | undefined;
  try {
    url = new URL(s.trim());
  } catch {
    /* reported below */
  }
  if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    ctx.addIssue({ code: 'custom', message: 'an http(s) URL, e.g. https://huggingface.co/Lumilio-Photos' });
    return z.NEVER;
  }
  return s.trim().replace(/\/+$/, '');
});

const oneOf = <T extends string>(values: readonly T[]) =>
  z.string().transform((s, ctx) => {
    const v = s.trim().toLowerCase() as T;
    if (!values.includes(v)) {
      ctx.addIssue({ code: 'custom', message: `one of ${values.join(', ')}` });
      return z.NEVER;
    }
    return v;
  });

// A pack name becomes one path segment and one URL segment: nothing that could climb out of a directory.
const packName = z.string().transform((s, ctx) => {
  const v = s.trim();
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v) || v.includes('..')) {
    ctx.addIssue({ code: 'custom', message: 'a pack name of letters, digits, ".", "_" and "-" (no "/" and no ".."), such as scrfd_2.5g_mbf or buffalo_l' });
    return z.NEVER;
  }
  return v;
});

const DEVICE_PATTERN = /^(cpu|cuda|cuda:\d+|rknpu|rknpu\d+)$/;
const device = z.string().transform((s, ctx) => {
  const v = s.trim().toLowerCase();
  if (!DEVICE_PATTERN.test(v)) {
    ctx.addIssue({ code: 'custom', message: 'a device hint: cpu, cuda, cuda:N, rknpu or rknpuN' });
    return z.NEVER;
  }
  return v;
});

const sizeOverride = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : NaN;
  if (!Number.isSafeInteger(n) || n < 1) {
    ctx.addIssue({ code: 'custom', message: 'a positive integer (a number or a string such as "112")' });
    return z.NEVER;
  }
  return n;
});

const coreMask = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const names: Record<string, number> = {
    auto: 0, core_0: 1, core_1: 2, core_2: 4, core_0_1: 3, core_0_1_2: 7, all: 0xffff,
  };
  const s = typeof v === 'string' ? v.trim().toLowerCase().replace(/^rknn_npu_core_/, '') : '';
  const n = typeof v === 'number' ? v : s in names ? names[s] : /^(0x[0-9a-f]+|\d+)$/.test(s) ? Number(s) : NaN;
  if (![0, 1, 2, 4, 3, 7, 0xffff].includes(n)) {
    ctx.addIssue({
      code: 'custom',
      message: 'an RKNN core mask: 0 (auto), 1, 2, 4, 3, 7, 0xffff, or a name such as "core_0_1"',
    });
    return z.NEVER;
  }
  return n;
});

const flag = z.union([z.boolean(), z.number(), z.string()]).transform((v, ctx) => {
  if (typeof v === 'boolean') return v;
  const value = parseBoolean(String(v));
  if (value !== undefined) return value;
  ctx.addIssue({ code: 'custom', message: BOOLEAN_WORDS });
  return z.NEVER;
});

const extraSchema = z
  .looseObject({
    rknn_target: z.string().trim().toLowerCase().min(1, 'a non-empty SoC name such as "rk3588"').optional(),
    rknn_device_id: z.union([z.string(), z.number()]).transform(String).optional(),
    rknn_perf_debug: flag.optional(),
    rknn_core_mask: coreMask.optional(),
    rknn_contexts: sizeOverride.optional(),
    rec_input_h: sizeOverride.optional(),
    rec_input_w: sizeOverride.optional(),
  });

const extra = z.string().transform((s, ctx) => {
  let parsed: unknown;
  try {
    parsed = JSON.parse(s);
  } catch {
    ctx.addIssue({ code: 'custom', message: 'a JSON object, e.g. {"rec_input_h": 112}' });
    return z.NEVER;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    ctx.addIssue({ code: 'custom', message: 'a JSON object, e.g. {"rec_input_h": 112}' });
    return z.NEVER;
  }
  const result = extraSchema.safeParse(parsed);
  if (!result.success) {
    for (const issue of result.error.issues) {
      ctx.addIssue({ code: 'custom', message: `key "${issue.path.join('.')}" to be ${issue.message}` });
    }
    return z.NEVER;
  }
  return result.data;
});

const cosineThreshold = z.string().transform((s, ctx) => {
  const n = Number(s.trim());
  if (s.trim() === '' || !Number.isFinite(n) || n < -1 || n > 1) {
    ctx.addIssue({ code: 'custom', message: 'a cosine similarity from -1 to 1, e.g. 0.42' });
    return z.NEVER;
  }
  return n;
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
    ctx.addIssue({ code: 'custom', message: `${API_KEYS_EXPECTED}, but ${problem}` });
    return z.NEVER;
  }
  return keys;
};

const apiKeys = z.string().transform((s, ctx) => keyList(s.split(','), 'position', ctx));

/** One key per line (a Docker or Kubernetes secret); blank lines and `#` comments are skipped. */
const apiKeysFile = z.string().transform((s, ctx) => {
  const file = s.trim();
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    ctx.addIssue({ code: 'custom', message: `a readable file with one API key per line; reading it failed: ${(err as Error).message}` });
    return z.NEVER;
  }
  const keys = keyList(text.split(/\r?\n/).map((line) => (line.trim().startsWith('#') ? '' : line)), 'line', ctx);
  return keys === z.NEVER ? z.NEVER : { path: file, keys };
});

const origins = z.string().transform((s, ctx) => {
  if (s.trim() === '*') return '*' as const;
  const list = s.split(',').map((o) => o.trim()).filter((o) => o !== '');
  const out: string[] = [];
  for (const origin of list) {
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch {
      /* reported below */
    }
    if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== '/' || url.search || url.hash || url.username || origin.endsWith('/')) {
      ctx.addIssue({ code: 'custom', message: `\`*\` or comma-separated origins such as https://photos.example.com, but ${JSON.stringify(origin)} is not one` });
      return z.NEVER;
    }
    out.push(url.origin);
  }
  if (out.length === 0) {
    ctx.addIssue({ code: 'custom', message: '`*` or comma-separated origins such as https://photos.example.com' });
    return z.NEVER;
  }
  return out;
});

const HOST_NAME = /^(?=.{1,253}$)[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*\.?$/;
const hostNames = z.string().transform((s, ctx) => {
  const out: string[] = [];
  for (const entry of s.split(',').map((h) => h.trim().toLowerCase()).filter((h) => h !== '')) {
    const ipv6 = /^\[?([0-9a-f:.]+)\]?$/.exec(entry);
    if (ipv6 && entry.includes(':')) out.push(`[${ipv6[1]}]`);
    else if (HOST_NAME.test(entry)) out.push(entry.replace(/\.$/, ''));
    else {
      ctx.addIssue({ code: 'custom', message: `comma-separated host names without port, such as localhost,photos.lan, but ${JSON.stringify(entry)} is not one` });
      return z.NEVER;
    }
  }
  if (out.length === 0) {
    ctx.addIssue({ code: 'custom', message: 'comma-separated host names without port, such as localhost,photos.lan' });
    return z.NEVER;
  }
  return out;
});

const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
const RUNTIMES = ['onnxrt', 'rknn'] as const;
const PRECISIONS = ['fp16', 'int8', 'fp32'] as const;
const PACK_LAYOUTS = ['auto', 'lumen', 'immich', 'insightface'] as const;
const LOG_FORMATS = ['json', 'pretty'] as const;

export type Runtime = (typeof RUNTIMES)[number];
export type Precision = (typeof PRECISIONS)[number];
export type PackLayoutSetting = (typeof PACK_LAYOUTS)[number];
export type LogFormat = (typeof LOG_FORMATS)[number];
export type Extra = z.output<typeof extraSchema>;

const cpuCount = () => Math.max(1, os.availableParallelism?.() ?? os.cpus().length);

/**
 * Thread topology, measured with `npm run bench -- throughput` (README, Performance): one single-threaded
 * session pair per core beats one pair with as many intra-op threads, because a request's work is a chain
 * of small runs (one detection, a few recognitions) that parallelise poorly inside one run, and a worker
 * that is busy with its JavaScript share leaves its core to another worker instead of idling it.
 * Beyond 4 workers each extra pair costs memory (a session pair per worker) for little gain, so larger
 * machines give the remaining cores to intra-op threads.
 */
const MAX_DEFAULT_WORKERS = 4;
const defaultWorkers = (cpus: number) => Math.max(1, Math.min(cpus, MAX_DEFAULT_WORKERS));
const defaultIntraOpThreads = (cpus: number, workers: number) => Math.max(1, Math.floor(cpus / workers));

interface Variable<T> {
  /** Names read, first wins; aliases come after the primary name. */
  names: readonly string[];
  schema: z.ZodType<T, string>;
  /** Default as documented (README), and the value used when unset. */
  doc: string;
  fallback: (env: Env) => T;
  description: string;
}

const v = <T>(
  names: readonly string[],
  schema: z.ZodType<T, string>,
  doc: string,
  fallback: (env: Env) => T,
  description: string,
): Variable<T> => ({ names, schema, doc, fallback, description });

/** The single source of truth for configuration. Order is the README order. */
export const VARIABLES = {
  runtime: v(['LUMEN_FACE_RUNTIME', 'LUMEN_FACE_BACKEND'], oneOf(RUNTIMES), 'onnxrt', () => 'onnxrt' as Runtime,
    'Inference runtime: `onnxrt` (ONNX Runtime) or `rknn` (Rockchip NPU). `LUMEN_FACE_BACKEND` is an alias.'),
  device: v(['LUMEN_FACE_DEVICE'], device, 'cpu (rknpu when the runtime is rknn)', () => 'cpu' /* see deriveDefaults */,
    'Device hint: `cpu`, `cuda`, `cuda:N` (onnxrt) or `rknpu`, `rknpuN` (rknn).'),
  modelName: v(['LUMEN_FACE_MODEL_NAME'], packName, 'scrfd_10g_iresnet50',
    () => 'scrfd_10g_iresnet50', 'Model pack name.'),
  precision: v(['LUMEN_FACE_PRECISION'], oneOf(PRECISIONS), 'fp16', () => 'fp16' as Precision,
    'Pack precision: `fp16`, `int8` or `fp32`.'),
  repoBase: v(['LUMEN_FACE_REPO_BASE'], httpUrl, 'https://huggingface.co/Lumilio-Photos',
    () => 'https://huggingface.co/Lumilio-Photos',
    'Where packs are downloaded from: a Hugging Face org URL (uses `/resolve/{revision}/`) or any plain http(s) mirror.'),
  revision: v(['LUMEN_FACE_REVISION'], nonEmpty('a branch, tag or commit'), 'main', () => 'main',
    'Hugging Face revision (branch, tag or commit) to download.'),
  localDir: v(['LUMEN_FACE_LOCAL_DIR'], nonEmpty('a directory path'), 'unset', () => undefined as string | undefined,
    'Directory searched first, laid out as `{model}/{runtime}/{precision}/{file}`. Never touches the network.'),
  cacheDir: v(['LUMEN_FACE_CACHE_DIR'], nonEmpty('a directory path'), '~/.cache/lumen_face',
    () => path.join(os.homedir(), '.cache', 'lumen_face'), 'Download cache, same layout as the local directory.'),
  offline: v(['LUMEN_FACE_OFFLINE', 'HF_HUB_OFFLINE'], bool, 'false', () => false,
    'Never touch the network; use only the local directory and the cache. `HF_HUB_OFFLINE` is honoured too.'),
  hfToken: v(['LUMEN_FACE_HF_TOKEN', 'HF_TOKEN'], nonEmpty('a token'), 'unset', () => undefined as string | undefined,
    'Hugging Face token, sent only to the Hugging Face host (never to a redirect target). `HF_TOKEN` is honoured too.'),
  hfEndpoint: v(['HF_ENDPOINT'], httpUrl, 'unset', () => undefined as string | undefined,
    'A Hugging Face mirror; its host is treated as a Hugging Face host for `LUMEN_FACE_REPO_BASE`.'),
  timeout: v(['LUMEN_FACE_TIMEOUT'], positiveSeconds, '30', () => 30,
    'Seconds allowed for connecting and for any stall in a download. It does not bound a whole (slow but steady) download.'),
  maxBatchSize: v(['LUMEN_FACE_MAX_BATCH_SIZE'], int(1, 1024), '8', () => 8,
    'Most faces sent to the recognizer in one run (when the model has a dynamic batch dimension).'),
  supportsImageBatch: v(['LUMEN_FACE_SUPPORTS_IMAGE_BATCH'], bool, 'false', () => false,
    'Seed compatibility flag, reported in `/v1/info`. Each request carries one image, so it changes nothing else.'),
  extra: v(['LUMEN_FACE_EXTRA'], extra, 'unset', () => ({}) as Extra,
    'JSON object of runtime extras: `rec_input_h`, `rec_input_w`, `rknn_target`, `rknn_core_mask`, `rknn_contexts`, `rknn_device_id`, `rknn_perf_debug`. Unknown keys are passed through.'),
  detSize: v(['LUMEN_FACE_DET_SIZE'], int(32, 4096, 'a multiple of 32 from 32 to 4096').refine((n) => n % 32 === 0, 'a multiple of 32 from 32 to 4096'), '640', () => 640,
    'Side of the square the detector sees (letterbox). A multiple of 32.'),
  host: v(['LUMEN_FACE_HOST'], nonEmpty('a host name or IP address'), '127.0.0.1', () => '127.0.0.1',
    'Address to listen on. The Docker image sets `0.0.0.0`.'),
  port: v(['LUMEN_FACE_PORT'], int(0, 65535, 'a TCP port from 0 to 65535'), '8000', () => 8000, 'Port to listen on.'),
  maxUploadBytes: v(['LUMEN_FACE_MAX_UPLOAD_BYTES'], int(1), '33554432 (32 MiB)', () => 32 * 1024 * 1024,
    'Largest accepted image upload, in bytes. Bigger uploads get 413.'),
  maxPixels: v(['LUMEN_FACE_MAX_PIXELS'], int(1), '100000000 (100 MP)', () => 100_000_000,
    'Largest accepted image, in pixels (width x height), checked before any pixel is decoded. Bigger images get 413.'),
  maxBoxes: v(['LUMEN_FACE_MAX_BOXES'], int(1, 10000), '256', () => 256, 'Most boxes accepted in one /v1/embed request.'),
  maxInflight: v(['LUMEN_FACE_MAX_INFLIGHT'], int(1, 100000), '32', () => 32,
    'Most image requests handled at once; more get 503 with Retry-After, which bounds memory under a flood.'),
  workers: v(['LUMEN_FACE_WORKERS'], int(1, 256), 'the CPUs, at most 4', () => 1 /* see deriveDefaults */,
    'ONNX Runtime worker threads, each holding its own pair of sessions.'),
  intraOpThreads: v(['LUMEN_FACE_INTRA_OP_THREADS'], int(1, 256), 'CPUs / workers, at least 1',
    () => 1 /* see deriveDefaults */,
    'ONNX Runtime intra-op threads per session.'),
  rknnLibrary: v(['LUMEN_FACE_RKNN_LIBRARY'], nonEmpty('a path to librknnrt.so'), 'librknnrt.so (default search path)',
    () => 'librknnrt.so', 'Path of Rockchip\'s `librknnrt.so`, loaded on first use of the rknn runtime.'),
  logLevel: v(['LUMEN_FACE_LOG_LEVEL'], oneOf(LOG_LEVELS), 'info', () => 'info' as (typeof LOG_LEVELS)[number],
    'Log level: fatal, error, warn, info, debug, trace or silent.'),
  requestTimeout: v(['LUMEN_FACE_REQUEST_TIMEOUT'], positiveSeconds, '30', () => 30,
    'Seconds a request may go without sending a byte (headers or body) before it gets 408 and its connection is closed. A slow but steady upload is not cut.'),
  uploadTimeout: v(['LUMEN_FACE_UPLOAD_TIMEOUT'], positiveSeconds, '300', () => 300,
    'Seconds allowed to receive a whole request, however steadily it arrives; bounds a client that trickles bytes. 300 s carries a 5 MB photo over a 150 kbit/s link.'),
  shutdownTimeout: v(['LUMEN_FACE_SHUTDOWN_TIMEOUT'], positiveSeconds, '8', () => 8,
    'Seconds SIGTERM/SIGINT waits for requests in flight before closing their connections and exiting. Keep it below the kill delay (docker stop: 10 s).'),
  maxFaces: v(['LUMEN_FACE_MAX_FACES'], int(1, 100000), '256', () => 256,
    'Most faces kept per image by /v1/detect and /v1/faces (the largest, after NMS); the `max_faces` knob can only lower it.'),
  maxImages: v(['LUMEN_FACE_MAX_IMAGES'], int(1, 1000), '32', () => 32,
    'Most image parts in one `/v1/faces/batch` or `/v1/detect/batch` request. `LUMEN_FACE_MAX_UPLOAD_BYTES` bounds the whole request.'),
  packLayout: v(['LUMEN_FACE_PACK_LAYOUT'], oneOf(PACK_LAYOUTS), 'auto', () => 'auto' as PackLayoutSetting,
    'Pack layout: `lumen` (the seed\'s), `immich`, `insightface`, or `auto`: a local folder by its files, the `immich-app` organisation as immich, else lumen. See "Models".'),
  logFormat: v(['LUMEN_FACE_LOG_FORMAT'], oneOf(LOG_FORMATS), 'pretty on a terminal, json otherwise', () => undefined as LogFormat | undefined,
    'Log format: `json` (one object a line) or `pretty` (human-readable lines).'),
  matchThreshold: v(['LUMEN_FACE_MATCH_THRESHOLD'], cosineThreshold, 'measured per pack: 0.42 (scrfd_2.5g_mbf), 0.44 (scrfd_500m_mbf), none for others',
    () => undefined as number | undefined,
    'Cosine similarity at or above which `/v1/verify` calls two faces the same person. Packs without a measured default need it.'),
  apiKeys: v(['LUMEN_FACE_API_KEYS'], apiKeys, 'unset', () => undefined as string[] | undefined,
    'Comma-separated API keys. When this or `LUMEN_FACE_API_KEYS_FILE` is set, every route but `/healthz`, `/readyz` and the docs needs `x-api-key: KEY` or `Authorization: Bearer KEY`.'),
  apiKeysFile: v(['LUMEN_FACE_API_KEYS_FILE'], apiKeysFile, 'unset', () => undefined as { path: string; keys: string[] } | undefined,
    'File with one API key per line (blank lines and `#` comments skipped), for Docker and Kubernetes secrets. Adds to `LUMEN_FACE_API_KEYS`.'),
  corsOrigins: v(['LUMEN_FACE_CORS_ORIGINS'], origins, 'unset (no CORS headers)', () => undefined as '*' | string[] | undefined,
    'Browser origins allowed to call the API: `*`, or a comma-separated list such as `https://photos.example.com`. Preflight requests are answered.'),
  allowedHosts: v(['LUMEN_FACE_ALLOWED_HOSTS'], hostNames, 'unset (any Host)', () => undefined as string[] | undefined,
    'Comma-separated host names (no port) the `Host` header must name; any other gets 421. `/healthz` and `/readyz` answer any Host.'),
  inferenceNice: v(['LUMEN_FACE_INFERENCE_NICE'], int(0, 19, 'an integer from 0 to 19'), '10', () => 10,
    'How much lower than the event loop the ONNX Runtime threads run (added to the nice value; 0 = same priority), so /healthz and request parsing get a core at once.'),
} as const;

type Vars = typeof VARIABLES;
export type Config = { [K in keyof Vars]: Vars[K] extends Variable<infer T> ? T : never };

/** Thrown when one or more variables are invalid; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** Variables whose value is never repeated in a message. */
const SECRETS = ['LUMEN_FACE_API_KEYS'];

const truncated = (value: string) => (value.length > 200 ? `${value.slice(0, 200)}...` : value);
const shown = (value: string) => JSON.stringify(truncated(value));

/** `cpus` is for tests; it defaults to the CPUs this process may use. */
export function loadConfig(env: Env = process.env, cpus = cpuCount()): Config {
  const problems: string[] = [];
  // Elsewhere an empty variable means unset; an empty key list would turn authentication off, so it fails closed.
  for (const name of ['LUMEN_FACE_API_KEYS', 'LUMEN_FACE_API_KEYS_FILE']) {
    if (env[name] !== undefined && env[name]!.trim() === '') problems.push(`${name} is set but empty: give at least one key, or unset it to run without keys`);
  }
  const out: Record<string, unknown> = {};
  const given = new Set<keyof Config>();
  for (const [key, variable] of Object.entries(VARIABLES) as [keyof Config, Variable<unknown>][]) {
    const present = variable.names.filter((n) => env[n] !== undefined && env[n] !== '');
    if (present.length === 0) {
      out[key] = variable.fallback(env);
      continue;
    }
    given.add(key);
    const values = present.map((name) => {
      const raw = env[name] as string;
      const result = variable.schema.safeParse(raw);
      if (!result.success) {
        problems.push(invalid(name, result.error.issues.map((i) => i.message).join('; '), SECRETS.includes(name) ? '(hidden)' : truncated(raw)));
      }
      return { name, value: result.success ? result.data : undefined };
    });
    if (values.some((x) => x.value === undefined)) continue;
    const [first, ...rest] = values;
    const conflict = rest.find((x) => JSON.stringify(x.value) !== JSON.stringify(first.value));
    if (conflict && key === 'runtime') {
      problems.push(`${first.name}=${shown(env[first.name]!)} and ${conflict.name}=${shown(env[conflict.name]!)} disagree: set only one`);
      continue;
    }
    out[key] = first.value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  const config = deriveDefaults(out as Config, given, cpus);
  problems.push(...crossCheck(config));
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

/** Defaults that depend on other variables, computed from the parsed values (not from raw text or other defaults). */
function deriveDefaults(c: Config, given: ReadonlySet<keyof Config>, cpus: number): Config {
  const device = given.has('device') ? c.device : c.runtime === 'rknn' ? 'rknpu' : 'cpu';
  const workers = given.has('workers') ? c.workers : defaultWorkers(cpus);
  const intraOpThreads = given.has('intraOpThreads') ? c.intraOpThreads : defaultIntraOpThreads(cpus, workers);
  return { ...c, device, workers, intraOpThreads };
}

function crossCheck(c: Config): string[] {
  const problems: string[] = [];
  const npu = c.device.startsWith('rknpu');
  if (c.runtime === 'rknn' && !npu) {
    problems.push(`LUMEN_FACE_DEVICE=${shown(c.device)} does not fit LUMEN_FACE_RUNTIME=rknn: expected rknpu or rknpuN`);
  }
  if (c.runtime === 'onnxrt' && npu) {
    problems.push(`LUMEN_FACE_DEVICE=${shown(c.device)} does not fit LUMEN_FACE_RUNTIME=onnxrt: expected cpu, cuda or cuda:N`);
  }
  return problems;
}

/** The configuration from the environment with some variables replaced (the `lumen-face` flags). */
export function loadConfigWith(overrides: Env, env: Env = process.env): Config {
  return loadConfig({ ...env, ...overrides });
}

const SECRET_KEYS = new Set<string>(['hfToken']);

/** The variables set to something other than their default, as `NAME=value` (secrets shown as set). */
export function changedVariables(overrides: Env = {}, base: Env = process.env): string[] {
  const env = { ...base, ...overrides };
  const changed: string[] = [];
  for (const [key, variable] of Object.entries(VARIABLES) as [keyof Config, Variable<unknown>][]) {
    const name = variable.names.find((n) => env[n] !== undefined && env[n] !== '');
    if (!name) continue;
    const parsed = variable.schema.safeParse(env[name]);
    if (parsed.success && JSON.stringify(parsed.data) === JSON.stringify(variable.fallback(env))) continue;
    changed.push(`${name}=${SECRET_KEYS.has(key) ? '(set)' : env[name]}`);
  }
  return changed;
}
