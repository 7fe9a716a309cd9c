import type { EngineInfo, InferenceEngine, TensorSession } from '../engines/engine.js';
import { rgbToNchw } from '../engines/tensor-layout.js';
import { ARCFACE_NORM, embeddingOutputIndex } from '../face/arcface.js';
import { SCRFD_NORM } from '../face/scrfd.js';
import { LumenError } from '../errors.js';
import type { RgbImage, Tensor } from '../types.js';

const DEFAULT_REC_SIZE = 112;

export interface SessionEngineSetup {
  runtime: EngineInfo['runtime'];
  device: string;
  providers: string[];
  /** Letterbox side used for the warm-up run. */
  detSize: number;
  recInputSize?: { height?: number; width?: number };
  details: Record<string, unknown>;
}

const isDynamic = (d: number | null | undefined) => d === null || d === undefined || d <= 0;
const staticDim = (d: number | null | undefined) => (typeof d === 'number' && d > 0 ? d : undefined);

/**
 * A pack's two tensor sessions as the engine the pipeline drives: SCRFD and ArcFace inputs are
 * normalised by their families' rules, the embedding output is chosen by what the graph declares,
 * and a fixed batch is padded. Both sessions run once before this resolves, so the first request
 * pays no allocation.
 */
export async function sessionEngine(detection: TensorSession, recognition: TensorSession, setup: SessionEngineSetup): Promise<InferenceEngine> {
  const recInput = recognition.inputs[0]?.dims ?? [];
  const width = setup.recInputSize?.width ?? staticDim(recInput[3]) ?? DEFAULT_REC_SIZE;
  const height = setup.recInputSize?.height ?? staticDim(recInput[2]) ?? DEFAULT_REC_SIZE;
  const batch: number | 'dynamic' = staticDim(recInput[0]) ?? 'dynamic';
  let embeddingIndex: number;
  try {
    embeddingIndex = embeddingOutputIndex(recognition.outputs);
  } catch (err) {
    throw new LumenError('MODEL_LOAD_FAILED', (err as Error).message, { cause: err });
  }

  const detect = async (image: RgbImage): Promise<Tensor[]> => {
    const data = rgbToNchw(image.data, 1, image.width, image.height, SCRFD_NORM.mean, SCRFD_NORM.std);
    return detection.run({ [detection.inputs[0].name]: { data, dims: [1, 3, image.height, image.width] } });
  };

  const embed = async (crops: Uint8Array, count: number): Promise<Float32Array> => {
    // A model with a fixed batch dimension gets exactly that many images; the padding rows are dropped below.
    const rows = batch === 'dynamic' ? count : batch;
    const input = new Float32Array(rows * width * height * 3);
    rgbToNchw(crops, count, width, height, ARCFACE_NORM.mean, ARCFACE_NORM.std, input);
    const outputs = await recognition.run({ [recognition.inputs[0].name]: { data: input, dims: [rows, 3, height, width] } });
    const output = outputs[embeddingIndex].data;
    return output.slice(0, (output.length / rows) * count);
  };

  let dim: number;
  try {
    await detect({ data: new Uint8Array(setup.detSize * setup.detSize * 3), width: setup.detSize, height: setup.detSize });
    dim = (await embed(new Uint8Array(width * height * 3), 1)).length;
  } catch (err) {
    throw new LumenError('MODEL_LOAD_FAILED', `the pack loaded but a test run failed: ${(err as Error).message}`, { cause: err });
  }

  const info: EngineInfo = {
    runtime: setup.runtime,
    device: setup.device,
    providers: setup.providers,
    recognition: { width, height, dim, batch },
    detection: { outputs: detection.outputs.length, anyShape: isDynamic(detection.inputs[0]?.dims[2]) && isDynamic(detection.inputs[0]?.dims[3]) },
    details: setup.details,
  };
  return {
    info,
    detect,
    embed,
    close: async () => {
      await detection.release();
      await recognition.release();
    },
  };
}
