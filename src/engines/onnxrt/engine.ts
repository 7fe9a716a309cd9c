import { Piscina } from 'piscina';
import { LumenError } from '../../errors.js';
import type { Logger, RgbImage, Tensor } from '../../types.js';
import type { EngineInfo, InferenceEngine } from '../engine.js';
import { guardPool } from './pool-guard.js';
import type { PackedOutputs, WorkerDescription, WorkerSetup, WorkerTask } from './protocol.js';

export interface OnnxEngineOptions {
  detectionPath: string;
  recognitionPath: string;
  /** cpu, cuda or cuda:N */
  device: string;
  workers: number;
  intraOpThreads: number;
  /** Added to the nice value of each worker thread (and the intra-op threads it starts); 0 keeps it. */
  inferenceNice?: number;
  /** Letterbox side used for the warm-up run. */
  detSize: number;
  recInputSize?: { height?: number; width?: number };
}

const DEFAULT_REC_SIZE = 112;

export function providersFor(device: string): WorkerSetup['providers'] {
  const cuda = /^cuda(?::(\d+))?$/.exec(device);
  if (cuda) return [{ name: 'cuda', deviceId: Number(cuda[1] ?? 0) }, 'cpu'];
  return ['cpu'];
}

const staticDim = (d: number | null | undefined) => (typeof d === 'number' && d > 0 ? d : undefined);

/** ONNX Runtime engine: each worker thread holds its own detection and recognition sessions. */
export async function createOnnxEngine(opts: OnnxEngineOptions, log: Logger): Promise<InferenceEngine> {
  const setup: WorkerSetup = {
    detectionPath: opts.detectionPath,
    recognitionPath: opts.recognitionPath,
    providers: providersFor(opts.device),
    intraOpThreads: opts.intraOpThreads,
    inferenceNice: opts.inferenceNice ?? 0,
  };
  const pool = new Piscina<WorkerTask, unknown>({
    filename: new URL('./worker.js', import.meta.url).href,
    minThreads: opts.workers,
    maxThreads: opts.workers,
    idleTimeout: Number.POSITIVE_INFINITY,
    workerData: setup,
  });
  const guard = guardPool(pool);

  let description: WorkerDescription;
  try {
    // One task per worker, so every worker has loaded its sessions before we report ready.
    const all = await guard.all(Array.from({ length: opts.workers }, () => pool.run({ kind: 'describe' })));
    description = all[0] as WorkerDescription;
  } catch (err) {
    await guard.close();
    throw new LumenError('MODEL_LOAD_FAILED', `ONNX Runtime could not load the pack: ${(err as Error).message}`, { cause: err });
  }
  if (description.providerFallback) {
    log.error({ device: opts.device, reason: description.providerFallback },
      `!!! ${opts.device} was requested but its execution provider could not be loaded: RUNNING ON CPU. ` +
        'Install the CUDA build (see README, GPU) or set LUMEN_FACE_DEVICE=cpu.');
  }

  const recInput = description.recognition.inputs[0]?.shape ?? [];
  const width = opts.recInputSize?.width ?? staticDim(recInput[3]) ?? DEFAULT_REC_SIZE;
  const height = opts.recInputSize?.height ?? staticDim(recInput[2]) ?? DEFAULT_REC_SIZE;
  const batch: number | 'dynamic' = staticDim(recInput[0]) ?? 'dynamic';

  const runDetect = async (image: RgbImage): Promise<Tensor[]> => {
    const pixels = transferable(image.data);
    const packed = (await pool.run(
      { kind: 'detect', pixels, width: image.width, height: image.height },
      { transferList: [pixels.buffer as ArrayBuffer] },
    )) as PackedOutputs;
    return packed.dims.map((dims, i) => ({ data: packed.data.subarray(packed.offsets[i], packed.offsets[i + 1]), dims }));
  };

  const runEmbed = async (crops: Uint8Array, count: number): Promise<Float32Array> => {
    const pixels = transferable(crops);
    const packed = (await pool.run(
      { kind: 'embed', pixels, count, width, height, batch },
      { transferList: [pixels.buffer as ArrayBuffer] },
    )) as PackedOutputs;
    return packed.data;
  };

  // Warm-up: the first run of a session allocates its buffers; do it before reporting ready.
  let dim: number;
  try {
    await runDetect({ data: new Uint8Array(opts.detSize * opts.detSize * 3), width: opts.detSize, height: opts.detSize });
    dim = (await runEmbed(new Uint8Array(width * height * 3), 1)).length;
  } catch (err) {
    await guard.close();
    throw new LumenError('MODEL_LOAD_FAILED', `the pack loaded but a test run failed: ${(err as Error).message}`, { cause: err });
  }

  const info: EngineInfo = {
    runtime: 'onnxrt',
    device: opts.device,
    providers: description.providers,
    recognition: { width, height, dim, batch },
    detection: { outputs: description.detection.outputs.length },
    details: {
      workers: opts.workers,
      intraOpThreads: opts.intraOpThreads,
      inferenceNice: opts.inferenceNice ?? 0,
      providerFallback: description.providerFallback ?? null,
      detectionIO: description.detection,
      recognitionIO: description.recognition,
    },
  };

  return {
    info,
    detect: runDetect,
    embed: runEmbed,
    close: () => guard.close(),
    stats: () => ({ workers: pool.threads.length, utilization: pool.utilization, queued: pool.queueSize }),
  };
}

/** A view that owns its whole ArrayBuffer, so it can be moved to a worker without copying. */
function transferable(data: Uint8Array): Uint8Array {
  if (data.byteOffset === 0 && data.byteLength === data.buffer.byteLength && data.buffer instanceof ArrayBuffer) return data;
  return new Uint8Array(data);
}
