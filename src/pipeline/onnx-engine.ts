import { openOnnxSession, providersFor, type OnnxSession } from '../engines/onnxrt/session.js';
import type { InferenceEngine, TensorMeta } from '../engines/engine.js';
import { LumenError } from '../errors.js';
import type { Logger } from '../types.js';
import { warnRunningOnCpu } from './running-on-cpu.js';
import { sessionEngine } from './session-engine.js';

export interface OnnxEngineOptions {
  detectionPath: string;
  recognitionPath: string;
  /** cpu, cuda or cuda:N */
  device: string;
  intraOpThreads: number;
  /** Letterbox side used for the warm-up run. */
  detSize: number;
  recInputSize?: { height?: number; width?: number };
}

/** A pack on ONNX Runtime, with both sessions on the calling thread (a photo worker, in the server). */
export async function createOnnxEngine(opts: OnnxEngineOptions, log: Logger): Promise<InferenceEngine> {
  const options = { providers: providersFor(opts.device), intraOpThreads: opts.intraOpThreads };
  let detection: OnnxSession | undefined;
  let recognition: OnnxSession;
  try {
    detection = await openOnnxSession(opts.detectionPath, options);
    recognition = await openOnnxSession(opts.recognitionPath, options);
  } catch (err) {
    await detection?.release();
    throw new LumenError('MODEL_LOAD_FAILED', `ONNX Runtime could not load the pack: ${(err as Error).message}`, { cause: err });
  }
  const providerFallback = detection.providerFallback ?? recognition.providerFallback;
  if (providerFallback) warnRunningOnCpu(log, opts.device, providerFallback);
  try {
    return await sessionEngine(detection, recognition, {
      runtime: 'onnxrt',
      device: opts.device,
      providers: recognition.providers,
      detSize: opts.detSize,
      recInputSize: opts.recInputSize,
      details: {
        intraOpThreads: opts.intraOpThreads,
        providerFallback: providerFallback ?? null,
        detectionIO: described(detection),
        recognitionIO: described(recognition),
      },
    });
  } catch (err) {
    await detection.release();
    await recognition.release();
    throw err;
  }
}

const shapes = (tensors: readonly TensorMeta[]) => tensors.map((t) => ({ name: t.name, shape: t.dims }));
const described = (session: OnnxSession) => ({ inputs: shapes(session.inputs), outputs: shapes(session.outputs) });
