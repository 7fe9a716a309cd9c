import {
  type Config,
  disableOnnxRuntimeTelemetry,
  loadConfig,
  type Env,
  parseOptions,
  wasGiven,
  withSettings,
  type Precision,
  type Runtime,
} from './config.js';
import type { EngineStats } from './engines/engine.js';
import type { EngineInfo, ModelSetup } from './pipeline/face-models.js';
import type { PackFileInfo } from './models/types.js';
import { loadWithHealing, resolvePack, type PackRequest, type ResolvedPack } from './models/index.js';
import type { EmbedOptions, EmbeddedBox, EmbeddedFace, PipelineResult, PipelineSettings, QualifiedFace } from './pipeline/pipeline.js';
import { PhotoPool } from './pipeline/photo-pool.js';
import { IdleUnload, type LoadState } from './pipeline/idle-unload.js';
import type { DetectOptionsInput } from './pipeline/options.js';
import { SERVICE, dependencyVersion } from './version.js';
import { jsonBodyLimit } from './body-limits.js';
import { type EmbeddingInput, type ImageVerification, matchThreshold, type Verification, verifyEmbeddings, verifyImages } from './pipeline/verify.js';
import { silentLogger, type Logger, type PhotoInput, type RunControl } from './types.js';
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
    maxUploadBytes: number;
    maxJsonBodyBytes: number;
    maxPixels: number;
    maxBoxes: number;
    maxBatchSize: number;
    maxFaces: number;
    maxImages: number;
    maxInflight: number;
  };
  /** The cosine similarity at or above which /v1/verify says same person; null when the pack has none. */
  verify: { threshold: number | null };
  supportsImageBatch: boolean;
  versions: { node: string; onnxruntime: string | null; sharp: string | null };
  engine: Record<string, unknown>;
}

/**
 * The programmatic API: the HTTP routes are built on exactly this. Every method that runs photos takes
 * a last `control`: when its signal aborts, the call stops (see RunControl).
 */
export interface FaceBackend {
  /** One L2-normalised embedding per box (or one for the whole image when no boxes are given). */
  embed(image: PhotoInput, options?: EmbedOptions, control?: RunControl): Promise<Float32Array[]>;
  /** Like embed, with the clamped boxes, alignment and stage timings. */
  embedDetailed(image: PhotoInput, options?: EmbedOptions, control?: RunControl): Promise<PipelineResult<EmbeddedBox>>;
  detect(image: PhotoInput, options?: DetectOptionsInput, control?: RunControl): Promise<PipelineResult<QualifiedFace>>;
  faces(image: PhotoInput, options?: DetectOptionsInput, control?: RunControl): Promise<PipelineResult<EmbeddedFace>>;
  /** Whether the largest faces of two images are the same person (NO_FACE names an image without one). */
  verify(image1: PhotoInput, image2: PhotoInput, control?: RunControl): Promise<ImageVerification>;
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
  const { pack, value: loaded } = await loadWithHealing(request, resolved, (p) => startPool(config, p, log), log);
  log.info({ runtime: loaded.info.runtime, providers: loaded.info.providers, recognition: loaded.info.recognition }, 'models loaded');
  const info = describe(config, pack, loaded.info);
  // The photo workers, freed when idle for LUMEN_FACE_MODEL_TTL seconds (never when 0).
  const pool = new IdleUnload(loaded, () => startPool(config, pack, log), config.modelTtl * 1000, log);
  const threshold = matchThreshold(config.modelName, config.matchThreshold);
  return {
    embed: async (image, opts, control) => (await pool.use((p) => p.embed(image, opts, control))).faces.map((f) => f.embedding),
    embedDetailed: (image, opts, control) => pool.use((p) => p.embed(image, opts, control)),
    detect: (image, opts, control) => pool.use((p) => p.detect(image, opts, control)),
    faces: (image, opts, control) => pool.use((p) => p.faces(image, opts, control)),
    verify: (image1, image2, control) => pool.use((p) => verifyImages(p, image1, image2, threshold, control)),
    verifyEmbeddings: (e1, e2) => verifyEmbeddings(e1, e2, info.model.dim, threshold),
    info: () => info,
    close: () => pool.close(),
    stats: () => pool.current?.stats(),
    loadState: () => pool.loadState(),
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

/** The photo workers, whichever the runtime: each opens the pack's graphs itself. */
async function startPool(config: Config, pack: ResolvedPack, log: Logger): Promise<PhotoPool> {
  const pool = await PhotoPool.start(
    { models: modelSetup(config, pack), pipeline: pipelineSettings(config), inferenceNice: config.inferenceNice },
    config.workers,
    log,
  );
  const fallback = pool.info.details.providerFallback;
  if (fallback) warnRunningOnCpu(log, config.device, String(fallback));
  if (config.runtime === 'rknn')
    log.info({ contexts: pool.info.details.contexts, workers: config.workers, engine: pool.info.details }, 'rknn models loaded in every photo worker');
  return pool;
}

function modelSetup(config: Config, pack: ResolvedPack): ModelSetup {
  return {
    runtime: config.runtime,
    detectionPath: pack.detection.path,
    recognitionPath: pack.recognition.path,
    device: config.device,
    detSize: config.detSize,
    recInputSize: { height: config.extra.rec_input_h, width: config.extra.rec_input_w },
    intraOpThreads: config.intraOpThreads,
    rknn:
      config.runtime === 'rknn'
        ? {
            libraryPath: config.rknnLibrary,
            coreMask: config.extra.rknn_core_mask,
            contexts: config.extra.rknn_contexts ?? 1,
            target: config.extra.rknn_target,
            deviceId: config.extra.rknn_device_id,
            perfDebug: config.extra.rknn_perf_debug ?? false,
            normalisedInput: pack.rknnInput === 'normalised',
          }
        : undefined,
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
      detection: { width: engine.detection.size, height: engine.detection.size },
      recognition: { width: recognition.width, height: recognition.height, batch: recognition.batch === 'dynamic' ? null : recognition.batch },
    },
    limits: {
      maxUploadBytes: config.maxUploadBytes,
      maxJsonBodyBytes: jsonBodyLimit(config.maxUploadBytes),
      maxPixels: config.maxPixels,
      maxBoxes: config.maxBoxes,
      maxBatchSize: config.maxBatchSize,
      maxFaces: config.maxFaces,
      maxImages: config.maxImages,
      maxInflight: config.maxInflight,
    },
    verify: { threshold: matchThreshold(config.modelName, config.matchThreshold) },
    supportsImageBatch: config.supportsImageBatch,
    versions: { node: process.versions.node, onnxruntime: dependencyVersion('onnxruntime-node'), sharp: dependencyVersion('sharp') },
    engine: engine.details,
  };
}
