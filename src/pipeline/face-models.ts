import type { TensorSession } from '../engines/engine.js';
import type { OnnxSession } from '../engines/onnxrt/session.js';
import type { RknnOptions, RknnSession } from '../engines/rknn/session.js';
import { LumenError } from '../errors.js';
import { ArcFace } from '../face/arcface.js';
import { Scrfd } from '../face/scrfd.js';
import type { Runtime } from '../models/names.js';
import type { Logger, RgbImage, Tensor } from '../types.js';

/** What a photo worker's models are, for /v1/info and the pipeline. */
export interface EngineInfo {
  runtime: Runtime;
  device: string;
  /** onnxrt: execution providers actually in use. rknn: ['rknpu']. */
  providers: string[];
  /** Recognition input size the crops must have. */
  recognition: { width: number; height: number; dim: number; batch: 'dynamic' | number };
  /**
   * The detector: its output count (which tells its SCRFD layout), the side of its square input, and
   * whether its graph takes any multiple of 32 instead (see Scrfd.dynamic).
   */
  detection: { outputs: number; size: number; dynamic: boolean };
  /** Runtime-specific details (SDK versions, core mask, thread counts...). */
  details: Record<string, unknown>;
}

/** How a photo worker opens the pack's two graphs: plain data, sent to every worker. */
export interface ModelSetup {
  runtime: Runtime;
  detectionPath: string;
  recognitionPath: string;
  /** cpu, cuda or cuda:N for ONNX Runtime; rknpu for RKNN (informational). */
  device: string;
  /** The detector's square side (a fixed graph must have it). */
  detSize: number;
  recInputSize?: { height?: number; width?: number };
  /** ONNX Runtime's threads per session. */
  intraOpThreads: number;
  /** Set for the rknn runtime. */
  rknn?: RknnOptions;
}

/**
 * The pack's detector and recognizer, ready to run in this thread: a tensor session each, on either
 * runtime, driven by its face family (SCRFD, ArcFace), which knows how to feed and read it.
 */
export interface FaceModels {
  readonly info: EngineInfo;
  /** Raw SCRFD outputs for one RGB image (see Scrfd.detect for the sizes it takes). */
  detect(image: RgbImage): Promise<Tensor[]>;
  /** `count * dim` raw embeddings of `count` crops of the recognition size, HWC each, back to back. */
  embed(crops: Uint8Array, count: number): Promise<Float32Array>;
  close(): Promise<void>;
}

interface OpenedSessions {
  detection: TensorSession;
  recognition: TensorSession;
  providers: string[];
  details: Record<string, unknown>;
}

/** Opens both graphs on the setup's runtime, checks them against their families and warms them up. */
export async function openFaceModels(setup: ModelSetup, log: Logger): Promise<FaceModels> {
  const sessions = setup.runtime === 'rknn' ? await openRknn(setup, log) : await openOnnx(setup);
  const { detection, recognition } = sessions;
  let detector: Scrfd;
  let recognizer: ArcFace;
  try {
    detector = await Scrfd.open(detection, setup.detSize);
    recognizer = await ArcFace.open(recognition, setup.recInputSize);
  } catch (err) {
    await Promise.allSettled([detection.release(), recognition.release()]);
    if (err instanceof LumenError) throw err;
    throw new LumenError('MODEL_LOAD_FAILED', `the pack loaded but does not run as SCRFD and ArcFace: ${(err as Error).message}`, { cause: err });
  }
  const info: EngineInfo = {
    runtime: setup.runtime,
    device: setup.device,
    providers: sessions.providers,
    recognition: { width: recognizer.width, height: recognizer.height, dim: recognizer.dim, batch: recognizer.batch },
    detection: { outputs: detector.outputCount, size: detector.size, dynamic: detector.dynamic },
    details: sessions.details,
  };
  return {
    info,
    detect: (image) => detector.detect(image),
    embed: (crops, count) => recognizer.embed(crops, count),
    close: async () => {
      const results = await Promise.allSettled([detection.release(), recognition.release()]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}

async function openOnnx(setup: ModelSetup): Promise<OpenedSessions> {
  // Loaded here, not at the top: a worker serving RKNN never loads ONNX Runtime.
  const { openOnnxSession, providersFor } = await import('../engines/onnxrt/session.js');
  const options = { providers: providersFor(setup.device), intraOpThreads: setup.intraOpThreads };
  let detection: OnnxSession | undefined;
  let recognition: OnnxSession;
  try {
    detection = await openOnnxSession(setup.detectionPath, options);
    recognition = await openOnnxSession(setup.recognitionPath, options);
  } catch (err) {
    await detection?.release();
    throw new LumenError('MODEL_LOAD_FAILED', `ONNX Runtime could not load the pack: ${(err as Error).message}`, { cause: err });
  }
  const providerFallback = detection.providerFallback ?? recognition.providerFallback;
  return {
    detection,
    recognition,
    providers: recognition.providers,
    details: {
      intraOpThreads: setup.intraOpThreads,
      providerFallback: providerFallback ?? null,
      detectionIO: detection.details,
      recognitionIO: recognition.details,
    },
  };
}

async function openRknn(setup: ModelSetup, log: Logger): Promise<OpenedSessions> {
  if (!setup.rknn) throw new LumenError('RKNN_UNAVAILABLE', 'the rknn runtime was chosen without its options');
  const { openRknnRuntime } = await import('../engines/rknn/session.js');
  const runtime = await openRknnRuntime(setup.rknn, log);
  const detection = runtime.open(setup.detectionPath, 'detection');
  let recognition: RknnSession;
  try {
    recognition = runtime.open(setup.recognitionPath, 'recognition');
  } catch (err) {
    await Promise.allSettled([detection.release()]);
    throw err;
  }
  return {
    detection,
    recognition,
    providers: ['rknpu'],
    details: {
      sdkApiVersion: detection.sdkVersion.api,
      sdkDriverVersion: detection.sdkVersion.driver,
      library: detection.libraryPath,
      ...runtime.details,
      contexts: detection.contexts,
      detectionInput: detection.details,
      recognitionInput: recognition.details,
    },
  };
}
