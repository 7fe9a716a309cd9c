import os from 'node:os';
import path from 'node:path';
import { parseCidrs } from '../fetch/address-policy.js';
import { parseAllowRules } from '../fetch/allowlist.js';
import { PACK_LAYOUTS, PRECISIONS, type Runtime, RUNTIMES } from '../models/names.js';
import { measuredThresholdsDoc } from '../models/pack-facts.js';
import {
  apiKeys,
  apiKeysFile,
  bool,
  checkedList,
  cosineThreshold,
  device,
  type Extra,
  extra,
  hostNames,
  httpUrl,
  int,
  nonEmpty,
  oneOf,
  origins,
  packName,
  positiveSeconds,
  type TextParser,
} from './parsers.js';

/**
 * Every LUMEN_FACE_* variable, one row each: the names read, the text parser, the default written once
 * (its README text is derived from the value), whether the value is secret, and the description.
 * The README table is checked against these rows by a test.
 */

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];
export type PackLayoutSetting = 'auto' | (typeof PACK_LAYOUTS)[number];

/** What a derived default may read: the values parsed or defaulted before it (table order), and the CPUs. */
export interface Derivation {
  runtime: Runtime;
  /** Given or not: a derived default above the layout's row sees it only when it was set. */
  packLayout?: PackLayoutSetting;
  workers: number;
  cpus: number;
}

export type Default<T> =
  /** A fixed value; the README shows it, with an optional note in parentheses. */
  | { kind: 'value'; value: T; note?: string }
  /** Computed from other values when the variable is unset; `doc` says how. */
  | { kind: 'derived'; derive: (from: Derivation) => T; doc: string }
  /** Left unset here and decided where it is used (`doc` says where): the value stays undefined. */
  | { kind: 'later'; doc: string };

const value = <const T>(v: T, note?: string): Default<T> => ({ kind: 'value', value: v, note });
const unset = <T>(note?: string): Default<T | undefined> => ({ kind: 'value', value: undefined, note });
const derived = <T>(derive: (from: Derivation) => T, doc: string): Default<T> => ({ kind: 'derived', derive, doc });
const later = <T>(doc: string): Default<T | undefined> => ({ kind: 'later', doc });

export interface Row<T> {
  /** Names read, first wins; aliases come after the primary name. */
  names: readonly string[];
  parse: TextParser<NonNullable<T>>;
  default: Default<T>;
  /** The default as the README shows it, derived from `default` (see defaultDoc). */
  doc: string;
  /** Never printed: messages, logs, `lumen-face check` and every other printer show "(set)" or "(hidden)". */
  secret: boolean;
  description: string;
  /** How a value given to createBackend(...) is written as text for `parse`; see optionText. */
  toText?: (value: NonNullable<T>) => string;
}

const row = <P, D>(
  names: readonly string[],
  parse: TextParser<P>,
  def: Default<D>,
  description: string,
  more: { secret?: boolean; toText?: (value: NonNullable<P | D>) => string } = {},
): Row<P | D> => ({
  names,
  parse: parse as TextParser<NonNullable<P | D>>,
  default: def,
  doc: defaultDoc(def),
  secret: more.secret ?? false,
  description,
  toText: more.toText,
});

/**
 * Thread topology, measured with `npm run bench -- throughput` (README, Performance): one single-threaded
 * session pair per core beats one pair with as many intra-op threads, because a request's work is a chain
 * of small runs (one detection, a few recognitions) that parallelise poorly inside one run, and a worker
 * that is busy with its JavaScript share leaves its core to another worker instead of idling it.
 * Beyond 4 workers each extra pair costs memory (a session pair per worker) for little gain, so larger
 * machines give the remaining cores to intra-op threads.
 */
const MAX_DEFAULT_WORKERS = 4;

/** The single source of truth for configuration. Order is the README order, and derived defaults follow what they read. */
export const VARIABLES = {
  runtime: row(
    ['LUMEN_FACE_RUNTIME', 'LUMEN_FACE_BACKEND'],
    oneOf(RUNTIMES),
    value<Runtime>('onnxrt'),
    'Inference runtime: `onnxrt` (ONNX Runtime) or `rknn` (Rockchip NPU). `LUMEN_FACE_BACKEND` is an alias.',
  ),
  device: row(
    ['LUMEN_FACE_DEVICE'],
    device,
    derived(({ runtime }) => (runtime === 'rknn' ? 'rknpu' : 'cpu'), 'cpu (rknpu when the runtime is rknn)'),
    'Device hint: `cpu`, `cuda`, `cuda:N` (onnxrt) or `rknpu`, `rknpuN` (rknn).',
  ),
  modelName: row(['LUMEN_FACE_MODEL_NAME'], packName, value('scrfd_10g_iresnet50'), 'Model pack name.'),
  precision: row(['LUMEN_FACE_PRECISION'], oneOf(PRECISIONS), value<(typeof PRECISIONS)[number]>('fp16'), 'Pack precision: `fp16`, `int8` or `fp32`.'),
  repoBase: row(
    ['LUMEN_FACE_REPO_BASE'],
    httpUrl,
    // immich's packs live in immich's own organisation; asking Lumilio-Photos for them cannot work.
    derived(
      ({ packLayout }) => (packLayout === 'immich' ? 'https://huggingface.co/immich-app' : 'https://huggingface.co/Lumilio-Photos'),
      'https://huggingface.co/Lumilio-Photos; https://huggingface.co/immich-app with `LUMEN_FACE_PACK_LAYOUT=immich`',
    ),
    'Where packs are downloaded from: a Hugging Face org URL (uses `/resolve/{revision}/`) or any plain http(s) mirror.',
  ),
  revision: row(['LUMEN_FACE_REVISION'], nonEmpty('a branch, tag or commit'), value('main'), 'Hugging Face revision (branch, tag or commit) to download.'),
  localDir: row(
    ['LUMEN_FACE_LOCAL_DIR'],
    nonEmpty('a directory path'),
    unset<string>(),
    'Directory searched first, laid out as `{model}/{runtime}/{precision}/{file}`. Never touches the network.',
  ),
  cacheDir: row(
    ['LUMEN_FACE_CACHE_DIR'],
    nonEmpty('a directory path'),
    derived(() => path.join(os.homedir(), '.cache', 'lumen_face'), '~/.cache/lumen_face'),
    'Download cache, same layout as the local directory.',
  ),
  offline: row(
    ['LUMEN_FACE_OFFLINE', 'HF_HUB_OFFLINE'],
    bool,
    value(false),
    'Never touch the network; use only the local directory and the cache. `HF_HUB_OFFLINE` is honoured too.',
  ),
  hfToken: row(
    ['LUMEN_FACE_HF_TOKEN', 'HF_TOKEN'],
    nonEmpty('a token'),
    unset<string>(),
    'Hugging Face token, sent only to the Hugging Face host (never to a redirect target). `HF_TOKEN` is honoured too.',
    { secret: true },
  ),
  hfEndpoint: row(['HF_ENDPOINT'], httpUrl, unset<string>(), 'A Hugging Face mirror; its host is treated as a Hugging Face host for `LUMEN_FACE_REPO_BASE`.'),
  timeout: row(
    ['LUMEN_FACE_TIMEOUT'],
    positiveSeconds,
    value(30),
    'Seconds allowed for connecting and for any stall in a download. It does not bound a whole (slow but steady) download.',
  ),
  maxBatchSize: row(
    ['LUMEN_FACE_MAX_BATCH_SIZE'],
    int(1, 1024),
    value(8),
    'Most faces sent to the recognizer in one run (when the model has a dynamic batch dimension).',
  ),
  supportsImageBatch: row(
    ['LUMEN_FACE_SUPPORTS_IMAGE_BATCH'],
    bool,
    value(false),
    "Compatibility flag of Lumen's Python face service, reported in `/v1/info`. Each request carries one image, so it changes nothing else.",
  ),
  extra: row(
    ['LUMEN_FACE_EXTRA'],
    extra,
    value<Extra>({}),
    'JSON object of runtime extras: `rec_input_h`, `rec_input_w`, `rknn_target`, `rknn_core_mask`, `rknn_contexts`, `rknn_device_id`, `rknn_perf_debug`. Unknown keys are passed through.',
    { toText: (v) => JSON.stringify(v) },
  ),
  detSize: row(
    ['LUMEN_FACE_DET_SIZE'],
    int(32, 4096, 'a multiple of 32 from 32 to 4096').refine((n) => n % 32 === 0, 'a multiple of 32 from 32 to 4096'),
    value(640),
    'Side of the square the detector sees (letterbox). A multiple of 32.',
  ),
  host: row(['LUMEN_FACE_HOST'], nonEmpty('a host name or IP address'), value('127.0.0.1'), 'Address to listen on. The Docker image sets `0.0.0.0`.'),
  port: row(['LUMEN_FACE_PORT'], int(0, 65535, 'a TCP port from 0 to 65535'), value(8000), 'Port to listen on.'),
  grpcPort: row(
    ['LUMEN_FACE_GRPC_PORT'],
    int(0, 65535, 'a TCP port from 0 to 65535'),
    unset<number>('off'),
    "Port for Lumen's gRPC protocol (`home_native.v1.Inference`, the face node of Lumilio-Photos) and `grpc.health.v1`, on `LUMEN_FACE_HOST`. Unset: no gRPC. See docs/lumen.md.",
  ),
  maxUploadBytes: row(
    ['LUMEN_FACE_MAX_UPLOAD_BYTES'],
    int(1),
    value(32 * 1024 * 1024, '32 MiB'),
    'Largest accepted image upload, in bytes. Bigger uploads get 413.',
  ),
  maxPixels: row(
    ['LUMEN_FACE_MAX_PIXELS'],
    int(1),
    value(100_000_000, '100 MP'),
    'Largest accepted image, in pixels (width x height), checked before any pixel is decoded. Bigger images get 413.',
  ),
  maxBoxes: row(['LUMEN_FACE_MAX_BOXES'], int(1, 10000), value(256), 'Most boxes accepted in one /v1/embed request.'),
  maxInflight: row(
    ['LUMEN_FACE_MAX_INFLIGHT'],
    int(1, 100000),
    value(32),
    'Most image requests handled at once; more get 503 with Retry-After, which bounds memory under a flood.',
  ),
  workers: row(
    ['LUMEN_FACE_WORKERS'],
    int(1, 256),
    derived(({ cpus }) => Math.max(1, Math.min(cpus, MAX_DEFAULT_WORKERS)), `the CPUs, at most ${MAX_DEFAULT_WORKERS}`),
    'Photo worker threads (ONNX Runtime): each holds its own pair of sessions and runs the whole per-photo pipeline (decode, detection, alignment, embeddings).',
  ),
  intraOpThreads: row(
    ['LUMEN_FACE_INTRA_OP_THREADS'],
    int(1, 256),
    derived(({ cpus, workers }) => Math.max(1, Math.floor(cpus / workers)), 'CPUs / workers, at least 1'),
    'ONNX Runtime intra-op threads per session.',
  ),
  rknnLibrary: row(
    ['LUMEN_FACE_RKNN_LIBRARY'],
    nonEmpty('a path to librknnrt.so'),
    value('librknnrt.so', 'default search path'),
    "Path of Rockchip's `librknnrt.so`, loaded on first use of the rknn runtime.",
  ),
  logLevel: row(
    ['LUMEN_FACE_LOG_LEVEL'],
    oneOf(LOG_LEVELS),
    value<(typeof LOG_LEVELS)[number]>('info'),
    'Log level: fatal, error, warn, info, debug, trace or silent.',
  ),
  requestTimeout: row(
    ['LUMEN_FACE_REQUEST_TIMEOUT'],
    positiveSeconds,
    value(30),
    'Seconds a request may go without sending a byte (headers or body) before it gets 408 and its connection is closed. A slow but steady upload is not cut.',
  ),
  requestBudget: row(
    ['LUMEN_FACE_REQUEST_BUDGET'],
    positiveSeconds,
    value(30),
    'Seconds of work one image request may take once its body has arrived (all its photos together); when spent, its work stops and it gets 503 BUDGET_EXCEEDED.',
  ),
  uploadTimeout: row(
    ['LUMEN_FACE_UPLOAD_TIMEOUT'],
    positiveSeconds,
    value(300),
    'Seconds allowed to receive a whole request, however steadily it arrives; bounds a client that trickles bytes. 300 s carries a 5 MB photo over a 150 kbit/s link.',
  ),
  minUploadRate: row(
    ['LUMEN_FACE_MIN_UPLOAD_RATE'],
    int(0),
    value(500, '500 bytes/s'),
    'Slowest average rate, in bytes per second, at which a request body may arrive once `LUMEN_FACE_MIN_UPLOAD_GRACE` has passed; a slower one gets 408 and its connection is closed. 0 turns the rule off.',
  ),
  minUploadGrace: row(
    ['LUMEN_FACE_MIN_UPLOAD_GRACE'],
    positiveSeconds,
    value(20),
    'Seconds a request body may take before `LUMEN_FACE_MIN_UPLOAD_RATE` applies.',
  ),
  maxConnections: row(
    ['LUMEN_FACE_MAX_CONNECTIONS'],
    int(1, 1_000_000),
    value(256),
    'Most open connections. One more first closes the connection idle longest; only when every connection has a request in progress is it refused.',
  ),
  shutdownTimeout: row(
    ['LUMEN_FACE_SHUTDOWN_TIMEOUT'],
    positiveSeconds,
    value(8),
    'Seconds SIGTERM/SIGINT waits for requests in flight before closing their connections and exiting. Keep it below the kill delay (docker stop: 10 s).',
  ),
  maxFacesPerRequest: row(
    ['LUMEN_FACE_MAX_FACES_PER_REQUEST'],
    int(1, 1_000_000),
    value(1024),
    'Most faces one batch request answers, all its images together (each image still keeps at most `LUMEN_FACE_MAX_FACES`). Images that start once it is reached get a `TOO_MANY_FACES` entry.',
  ),
  maxFaces: row(
    ['LUMEN_FACE_MAX_FACES'],
    int(1, 100000),
    value(256),
    'Most faces kept per image by /v1/detect and /v1/faces (the largest, after NMS); the `max_faces` knob can only lower it.',
  ),
  maxImages: row(
    ['LUMEN_FACE_MAX_IMAGES'],
    int(1, 1000),
    value(32),
    'Most image parts in one `/v1/faces/batch` or `/v1/detect/batch` request. `LUMEN_FACE_MAX_UPLOAD_BYTES` bounds the whole request.',
  ),
  packLayout: row(
    ['LUMEN_FACE_PACK_LAYOUT'],
    oneOf(['auto', ...PACK_LAYOUTS] as const),
    value<PackLayoutSetting>('auto'),
    'Pack layout: `lumen` (Lumen\'s own), `immich`, `insightface`, or `auto`: a local folder by its files, the `immich-app` organisation as immich, else lumen. See "Models".',
  ),
  logFormat: row(
    ['LUMEN_FACE_LOG_FORMAT'],
    oneOf(LOG_FORMATS),
    later<LogFormat>('pretty on a terminal, json otherwise'),
    'Log format: `json` (one object a line) or `pretty` (human-readable lines).',
  ),
  matchThreshold: row(
    ['LUMEN_FACE_MATCH_THRESHOLD'],
    cosineThreshold,
    later<number>(measuredThresholdsDoc()),
    'Cosine similarity at or above which `/v1/verify` calls two faces the same person. Packs without a measured default need it.',
  ),
  apiKeys: row(
    ['LUMEN_FACE_API_KEYS'],
    apiKeys,
    unset<string[]>(),
    'Comma-separated API keys. When this or `LUMEN_FACE_API_KEYS_FILE` is set, every route but `/healthz`, `/readyz` and the docs needs `x-api-key: KEY` or `Authorization: Bearer KEY`.',
    { secret: true },
  ),
  apiKeysFile: row(
    ['LUMEN_FACE_API_KEYS_FILE'],
    apiKeysFile,
    unset<{ path: string; keys: string[] }>(),
    'File with one API key per line (blank lines and `#` comments skipped), for Docker and Kubernetes secrets. Adds to `LUMEN_FACE_API_KEYS`.',
    { toText: (v) => v.path },
  ),
  metricsPublic: row(
    ['LUMEN_FACE_METRICS_PUBLIC'],
    bool,
    value(false),
    '`/metrics` answers without an API key and for any Host, so Prometheus can scrape pods by address. The metrics hold counts and timings, no images, faces or keys.',
  ),
  corsOrigins: row(
    ['LUMEN_FACE_CORS_ORIGINS'],
    origins,
    unset<'*' | string[]>('no CORS headers'),
    'Browser origins allowed to call the API: `*`, or a comma-separated list such as `https://photos.example.com`. Preflight requests are answered.',
  ),
  allowedHosts: row(
    ['LUMEN_FACE_ALLOWED_HOSTS'],
    hostNames,
    unset<string[]>('any Host'),
    'Comma-separated host names (no port) the `Host` header must name; any other gets 421. `/healthz` and `/readyz` answer any Host.',
  ),
  immich: row(
    ['LUMEN_FACE_IMMICH'],
    oneOf(['on', 'off', 'public'] as const),
    value<'on' | 'off' | 'public'>('on'),
    "immich's ML routes (`POST /predict`, `GET /ping`, `GET /`): `on` (behind the API keys like every route), `off`, or `public` (open without a key, for immich, which sends none; the other routes keep their keys). See docs/immich.md.",
  ),
  immichUpstream: row(
    ['LUMEN_FACE_IMMICH_UPSTREAM'],
    httpUrl,
    unset<string>(),
    'An immich ML URL (e.g. http://immich-machine-learning:3003) that `/predict` forwards every task but faces to (CLIP, OCR). Unset: those tasks get 422.',
  ),
  immichUpstreamTimeout: row(
    ['LUMEN_FACE_IMMICH_UPSTREAM_TIMEOUT'],
    positiveSeconds,
    value(120),
    'Seconds a forwarded `/predict` may take, answer included (504 after). immich ML loads a model on its first request, which can take a minute.',
  ),
  immichUpstreamMaxBytes: row(
    ['LUMEN_FACE_IMMICH_UPSTREAM_MAX_BYTES'],
    int(1),
    value(8 * 1024 * 1024, '8 MiB'),
    'Largest answer accepted from `LUMEN_FACE_IMMICH_UPSTREAM` (a CLIP answer is about 10 KB); a bigger one gets 502.',
  ),
  urlFetchAllow: row(
    ['LUMEN_FACE_URL_FETCH_ALLOW'],
    checkedList(parseAllowRules, 'comma-separated origins (https://photos.lan) or host patterns (*.example.com)'),
    value<string[]>([], 'no URL is fetched'),
    'Origins and host patterns `{"url": ...}` bodies may fetch photos from; see docs/input.md. Internal addresses stay refused unless `LUMEN_FACE_URL_FETCH_ALLOW_PRIVATE` allows them.',
  ),
  urlFetchAllowPrivate: row(
    ['LUMEN_FACE_URL_FETCH_ALLOW_PRIVATE'],
    checkedList(parseCidrs, 'comma-separated networks such as 10.0.0.0/8,fd00::/8'),
    value<string[]>([], 'none'),
    'Networks (CIDR) a fetched URL may resolve to although they are loopback, private or link-local.',
  ),
  urlFetchTimeout: row(
    ['LUMEN_FACE_URL_FETCH_TIMEOUT'],
    positiveSeconds,
    value(10),
    'Seconds a URL fetch may take in all, redirects included; connecting gets at most 5 of them.',
  ),
  modelTtl: row(
    ['LUMEN_FACE_MODEL_TTL'],
    int(0, 604800, 'a whole number of seconds from 0 to 604800'),
    value(0, 'never'),
    'Seconds without a request after which the models and their worker threads are freed; the next request loads them again and waits for it. `/readyz` stays 200 while unloaded. 0 keeps them loaded.',
  ),
  inferenceNice: row(
    ['LUMEN_FACE_INFERENCE_NICE'],
    int(0, 19, 'an integer from 0 to 19'),
    value(10),
    'How much lower than the event loop the ONNX Runtime threads run (added to the nice value; 0 = same priority), so /healthz and request parsing get a core at once.',
  ),
} as const;

type Vars = typeof VARIABLES;
export type Config = { [K in keyof Vars]: Vars[K] extends Row<infer T> ? T : never };

/** The README's text for a default: the value itself (unset for nothing), or what a derived default says. */
export function defaultDoc(d: Default<unknown>): string {
  if (d.kind !== 'value') return d.doc;
  const v = d.value;
  const empty = v === undefined || (typeof v === 'object' && v !== null && Object.keys(v).length === 0);
  const text = empty ? 'unset' : String(v);
  return d.note ? `${text} (${d.note})` : text;
}
