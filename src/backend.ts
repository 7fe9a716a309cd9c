import { type Config, disableOnnxRuntimeTelemetry, loadConfig, type Env, parseOptions, wasGiven, withSettings, type Precision, type Runtime } from './config.js';
import type { EngineInfo, EngineStats, InferenceEngine } from './engines/engine.js';
import type { PackFileInfo } from './models/types.js';
import { loadWithHealing, resolvePack, type PackRequest, type ResolvedPack } from './models/index.js';
import { FacePipeline, type EmbedOptions, type PipelineSettings } from './pipeline/pipeline.js';
import { PhotoPool } from './pipeline/photo-pool.js';
import { IdleUnloadingRunner } from './pipeline/idle-unload.js';
import type { LoadState, PhotoRunner } from './pipeline/runner.js';
import type { ImageInput } from './image/source.js';
import type { DetectOptionsInput } from './pipeline/options.js';
import { SERVICE, dependencyVersion } from './version.js';
import { jsonBodyLimit } from './body-limits.js';
import { type EmbeddingInput, type ImageVerification, matchThreshold, type Verification, verifyEmbeddings, verifyImages } from './pipeline/verify.js';
import { silentLogger, type Logger } from './types.js';
import { warnRunningOnCpu } from './pipeline/running-on-cpu.js';

/** What `/v1/info` answers; `routes/info.ts` describes it with a schema that must satisfy this type. */
export interface BackendInfo {
  service: { name: string; version: string };
  runtime: EngineInfo['runtime'];
  device: string;
  providers: string[];
  model: { name: string; runtime: Runtime; precision: Precision; dim: number };
  /** The pack layout used, and what the layout says about its files. */
  pack: { layout: ResolvedPack['layout']; notes: string[] };
  files: { detection: PackFileInfo; recognition: PackFileInfo };
  inputs: { detection: { width: number; height: number }; recognition: { width: number; height: number; batch: number | null } };
  limits: {
    maxUploadBytes: number; maxJsonBodyBytes: number; maxPixels: number; maxBoxes: number; maxBatchSize: number; maxFaces: number;
    maxImages: number; maxInflight: number;
  };
  /** The cosine similarity at or above which /v1/verify says same person; null when the pack has none. */
  verify: { threshold: number | null };
  supportsImageBatch: boolean;
  versions: { node: string; onnxruntime: string | null; sharp: string | null };
  engine: Record<string, unknown>;
}

/** The programmatic API: the HTTP routes are built on exactly this. */
export interface FaceBackend {
  /** One L2-normalised embedding per box (or one for the whole image when no boxes are given). */
  embed(image: ImageInput, options?: EmbedOptions): Promise<Float32Array[]>;
  /** Like embed, with the clamped boxes, alignment and stage timings. */
  embedDetailed(image: ImageInput, options?: EmbedOptions): ReturnType<FacePipeline['embed']>;
  detect(image: ImageInput, options?: DetectOptionsInput): ReturnType<FacePipeline['detect']>;
  faces(image: ImageInput, options?: DetectOptionsInput): ReturnType<FacePipeline['faces']>;
  /** Whether the largest faces of two images are the same person (NO_FACE names an image without one). */
  verify(image1: ImageInput, image2: ImageInput): Promise<ImageVerification>;
  /** The same decision for two embeddings of this model. */
  verifyEmbeddings(embedding1: EmbeddingInput, embedding2: EmbeddingInput): Verification;
  info(): BackendInfo;
  close(): Promise<void>;
  /** How busy the inference workers are, when the engine has a pool of them. */
  stats?(): EngineStats | undefined;
  /** Whether the models are in memory (LUMEN_FACE_MODEL_TTL frees them when idle) and how often they loaded. */
  loadState?(): LoadState;
}

/**
 * Settings by their configuration key (`workers`, `extra`, ...), read by the same parsers as the
 * LUMEN_FACE_* variables: an invalid one rejects with INVALID_OPTION, phrased as every validation is.
 */
export interface CreateBackendOptions extends Partial<Config> {
  /** Environment to read defaults from; the process environment (read by src/config.ts) when omitted. */
  env?: Env;
  /** A configuration parsed already (the server's); the environment is then not read again. */
  config?: Config;
  log?: Logger;
}

export async function createBackend(options: CreateBackendOptions = {}): Promise<FaceBackend> {
  const { env, config: parsed, log = silentLogger, ...overrides } = options;
  const given = parseOptions(overrides);
  // Without a parsed configuration, the options count as given, so the defaults derived from them follow.
  const config: Config = parsed ? withSettings(parsed, given) : loadConfig(env, undefined, given);
  // Before anything loads ONNX Runtime: the graph checks of the pack do, in this thread.
  if (config.runtime === 'onnxrt') disableOnnxRuntimeTelemetry();
  const request = packRequest(config);
  const resolved = await resolvePack(request, log);
  log.info({ layout: resolved.layout, detection: resolved.detection.path, recognition: resolved.recognition.path }, 'model pack resolved');
  const { pack, value: loaded } = await loadWithHealing(request, resolved, (p) => createRunner(config, p, log), log);
  log.info({ runtime: loaded.info.runtime, providers: loaded.info.providers, recognition: loaded.info.recognition }, 'models loaded');
  const runner = config.modelTtl > 0 ? new IdleUnloadingRunner(loaded, () => createRunner(config, pack, log), config.modelTtl * 1000, log) : loaded;
  const info = describe(config, pack, runner.info);
  const threshold = matchThreshold(config.modelName, config.matchThreshold);
  return {
    embed: async (image, opts) => (await runner.embed(image, opts)).faces.map((f) => f.embedding),
    embedDetailed: (image, opts) => runner.embed(image, opts),
    detect: (image, opts) => runner.detect(image, opts),
    faces: (image, opts) => runner.faces(image, opts),
    verify: (image1, image2) => verifyImages(runner, image1, image2, threshold),
    verifyEmbeddings: (e1, e2) => verifyEmbeddings(e1, e2, info.model.dim, threshold),
    info: () => info,
    close: () => runner.close(),
    stats: () => runner.stats?.(),
    loadState: () => (runner instanceof IdleUnloadingRunner ? runner.loadState() : { loaded: true, loads: 1 }),
  };
}

function pipelineSettings(config: Config): PipelineSettings {
  return {
    detSize: config.detSize,
    maxBatchSize: config.maxBatchSize,
    maxBoxes: config.maxBoxes,
    maxFaces: config.maxFaces,
    limits: { maxPixels: config.maxPixels },
  };
}

async function createRunner(config: Config, pack: ResolvedPack, log: Logger): Promise<PhotoRunner> {
  const recInputSize = { height: config.extra.rec_input_h, width: config.extra.rec_input_w };
  if (config.runtime === 'onnxrt') {
    const engine = {
      detectionPath: pack.detection.path,
      recognitionPath: pack.recognition.path,
      device: config.device,
      intraOpThreads: config.intraOpThreads,
      detSize: config.detSize,
      recInputSize,
    };
    const pool = await PhotoPool.start({ engine, pipeline: pipelineSettings(config), inferenceNice: config.inferenceNice }, config.workers);
    const fallback = pool.info.details.providerFallback;
    if (fallback) warnRunningOnCpu(log, config.device, String(fallback));
    return pool;
  }
  const engine = await createRknnEngine(config, pack, log);
  const pipeline = new FacePipeline(engine, pipelineSettings(config));
  return {
    info: engine.info,
    detect: (image, opts) => pipeline.detect(image, opts),
    faces: (image, opts) => pipeline.faces(image, opts),
    embed: (image, opts) => pipeline.embed(image, opts),
    close: () => engine.close(),
    stats: () => engine.stats?.(),
  };
}

/** What the resolver needs from the configuration. */
export function packRequest(config: Config): PackRequest {
  return {
    model: config.modelName,
    runtime: config.runtime,
    precision: config.precision,
    layout: config.packLayout,
    localDir: config.localDir,
    cacheDir: config.cacheDir,
    repoBase: config.repoBase,
    remote: !config.localDir || wasGiven(config, 'repoBase') || wasGiven(config, 'hfEndpoint'),
    revision: config.revision,
    offline: config.offline,
    hfToken: config.hfToken,
    hfEndpoint: config.hfEndpoint,
    timeoutMs: config.timeout * 1000,
    soc: config.extra.rknn_target,
  };
}

async function createRknnEngine(config: Config, pack: ResolvedPack, log: Logger): Promise<InferenceEngine> {
  const { createRknnEngine: create } = await import('./engines/rknn/engine.js');
  return create(
    {
      detectionPath: pack.detection.path,
      recognitionPath: pack.recognition.path,
      device: config.device,
      detSize: config.detSize,
      recInputSize: { height: config.extra.rec_input_h, width: config.extra.rec_input_w },
      libraryPath: config.rknnLibrary,
      coreMask: config.extra.rknn_core_mask,
      contexts: config.extra.rknn_contexts ?? 1,
      target: config.extra.rknn_target,
      deviceId: config.extra.rknn_device_id,
      perfDebug: config.extra.rknn_perf_debug ?? false,
      normalisedInput: pack.rknnInput === 'normalised',
    },
    log,
  );
}

function describe(config: Config, pack: ResolvedPack, engine: EngineInfo): BackendInfo {
  const { recognition } = engine;
  return {
    service: SERVICE,
    runtime: engine.runtime,
    device: engine.device,
    providers: engine.providers,
    // immich and insightface packs have one precision, whatever LUMEN_FACE_PRECISION says: report the files'.
    model: { name: config.modelName, runtime: config.runtime, precision: pack.precision as Precision, dim: recognition.dim },
    pack: { layout: pack.layout, notes: pack.notes },
    files: { detection: pack.detection, recognition: pack.recognition },
    inputs: {
      detection: { width: config.detSize, height: config.detSize },
      recognition: { width: recognition.width, height: recognition.height, batch: recognition.batch === 'dynamic' ? null : recognition.batch },
    },
    limits: {
      maxUploadBytes: config.maxUploadBytes, maxJsonBodyBytes: jsonBodyLimit(config.maxUploadBytes), maxPixels: config.maxPixels, maxBoxes: config.maxBoxes,
      maxBatchSize: config.maxBatchSize, maxFaces: config.maxFaces, maxImages: config.maxImages, maxInflight: config.maxInflight,
    },
    verify: { threshold: matchThreshold(config.modelName, config.matchThreshold) },
    supportsImageBatch: config.supportsImageBatch,
    versions: { node: process.versions.node, onnxruntime: dependencyVersion('onnxruntime-node'), sharp: dependencyVersion('sharp') },
    engine: engine.details,
  };
}
