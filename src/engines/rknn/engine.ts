import { LumenError } from '../../errors.js';
import { invalid } from '../../validation.js';
import type { Logger, RgbImage, Tensor } from '../../types.js';
import type { EngineInfo, InferenceEngine } from '../engine.js';
import {
  isRknnCallError,
  loadRknnAddon,
  RKNN_FLAG_COLLECT_PERF_MASK,
  tensorFormatName,
  tensorTypeName,
  type RknnAddon,
  type RknnModel,
} from './addon.js';
import { acceptsCoreMask, npuFamily, readRockchipSocs } from './board.js';
import { feedName, inputBuffer, planInput, type InputPlan } from './input-feed.js';
import { ARCFACE_NORM, embeddingOutputIndex } from '../../face/arcface.js';
import { SCRFD_NORM } from '../../face/scrfd.js';

export { readRockchipSocs } from './board.js';
export { toFloat16 } from './input-feed.js';

export interface RknnEngineOptions {
  detectionPath: string;
  recognitionPath: string;
  /** 'rknpu' | 'rknpuN' etc. (informational) */
  device: string;
  /** Letterbox side the pipeline will feed (e.g. 640). */
  detSize: number;
  /** rec_input_h / rec_input_w overrides. */
  recInputSize?: { height?: number; width?: number };
  /** LUMEN_FACE_RKNN_LIBRARY */
  libraryPath: string;
  /** extra rknn_core_mask (undefined = do not call rknn_set_core_mask) */
  coreMask?: number;
  /** extra rknn_contexts, default 1 */
  contexts: number;
  /** extra rknn_target, e.g. 'rk3588' */
  target?: string;
  /** extra rknn_device_id: only for PC-to-board (adb) mode, ignored on the board */
  deviceId?: string;
  /** extra rknn_perf_debug: collect and log per-run NPU time */
  perfDebug: boolean;
  /** The pack says its inputs take the normalised float tensor (immich's conversions bake in no mean/std). */
  normalisedInput?: boolean;
  /** default '/proc/device-tree/compatible', overridable for tests */
  compatiblePath?: string;
}

const DEFAULT_COMPATIBLE = '/proc/device-tree/compatible';

function openModel(addon: RknnAddon, role: string, path: string, opts: Parameters<RknnAddon['open']>[1]): RknnModel {
  try {
    return addon.open(path, opts);
  } catch (err) {
    throw new LumenError('MODEL_LOAD_FAILED', `RKNN could not load the ${role} model ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Rockchip NPU engine: each model has `contexts` runtime contexts, so that many runs overlap. */
export async function createRknnEngine(opts: RknnEngineOptions, log: Logger): Promise<InferenceEngine> {
  if (!(Number.isInteger(opts.contexts) && opts.contexts >= 1)) {
    throw new LumenError('MODEL_LOAD_FAILED', invalid('rknn_contexts', 'an integer of at least 1', opts.contexts));
  }
  let addon: RknnAddon;
  try {
    addon = loadRknnAddon();
  } catch (err) {
    throw new LumenError('RKNN_UNAVAILABLE', (err as Error).message, { cause: err });
  }

  const compatiblePath = opts.compatiblePath ?? DEFAULT_COMPATIBLE;
  const socs = await readRockchipSocs(compatiblePath);
  const soc = socs?.[0];
  if (opts.target !== undefined && socs !== undefined) {
    const wanted = npuFamily(opts.target);
    if (!socs.some((s) => npuFamily(s) === wanted)) {
      throw new LumenError('RKNN_TARGET_MISMATCH', `rknn_target is ${opts.target} but this board is ${socs.length ? socs.join('/') : 'not a known Rockchip SoC'} ` +
          `(from ${compatiblePath}): use models converted for this SoC, or fix rknn_target`,
      );
    }
  }
  if (opts.deviceId !== undefined) {
    log.info({ deviceId: opts.deviceId }, 'rknn_device_id only applies to PC-to-board (adb) mode: ignored on the board');
  }

  // Decided by the SoC when known, else by rknn_target; with neither, do what was asked.
  const maskSoc = soc ?? opts.target;
  let coreMask = opts.coreMask;
  if (coreMask !== undefined && maskSoc !== undefined && !acceptsCoreMask(maskSoc)) {
    log.info({ soc: maskSoc, coreMask }, 'rknn_core_mask ignored: only RK3576 and RK3588 accept a core mask');
    coreMask = undefined;
  }

  const openOpts = {
    libraryPath: opts.libraryPath,
    contexts: opts.contexts,
    coreMask,
    flags: opts.perfDebug ? RKNN_FLAG_COLLECT_PERF_MASK : 0,
  };
  const det = openModel(addon, 'detection', opts.detectionPath, openOpts);
  let rec: RknnModel;
  try {
    rec = openModel(addon, 'recognition', opts.recognitionPath, openOpts);
  } catch (err) {
    await Promise.allSettled([det.close()]);
    throw err;
  }

  try {
    return await assemble(opts, log, det, rec, { soc, coreMask, compatiblePath });
  } catch (err) {
    await Promise.allSettled([det.close(), rec.close()]);
    throw err instanceof LumenError ? err : new LumenError('MODEL_LOAD_FAILED', (err as Error).message, { cause: err });
  }
}

async function assemble(
  opts: RknnEngineOptions,
  log: Logger,
  det: RknnModel,
  rec: RknnModel,
  board: { soc?: string; coreMask?: number; compatiblePath: string },
): Promise<InferenceEngine> {
  const detPlan = planInput('detection', det, opts.normalisedInput);
  if (detPlan.batch !== 1) throw new Error(`the detection model has batch ${detPlan.batch}, expected 1`);
  if (detPlan.width !== opts.detSize || detPlan.height !== opts.detSize) {
    throw new Error(
      `the detection model takes ${detPlan.width}x${detPlan.height} but the detection size is ${opts.detSize}: ` +
        `set the detection size to ${detPlan.width} or convert the model for ${opts.detSize}`,
    );
  }

  const recPlan = planInput('recognition', rec, opts.normalisedInput);
  const width = opts.recInputSize?.width ?? recPlan.width;
  const height = opts.recInputSize?.height ?? recPlan.height;
  // .rknn inputs are fixed at conversion, so an override can only confirm the queried size.
  if (width !== recPlan.width || height !== recPlan.height) {
    throw new Error(
      `rec_input_w/rec_input_h ask for ${width}x${height} but the recognition model takes ${recPlan.width}x${recPlan.height} ` +
        '(RKNN input sizes are fixed at conversion): remove the override or convert the model for that size',
    );
  }
  const embeddingIndex = embeddingOutputIndex(rec.outputs.map((o) => ({ name: o.name, dims: o.dims })));
  const dim = rec.outputs[embeddingIndex].nElems / recPlan.batch;
  if (!Number.isInteger(dim) || dim < 1) {
    throw new Error(`the recognition output has ${rec.outputs[embeddingIndex].nElems} values, not a multiple of the batch ${recPlan.batch}`);
  }

  const run = async (role: string, model: RknnModel, plan: InputPlan, input: ArrayBufferView) => {
    let outputs;
    try {
      outputs = await model.run([input], { inputs: [{ type: plan.type, fmt: plan.fmt }] });
    } catch (err) {
      const what = isRknnCallError(err) ? `${err.function} returned ${err.codeName} (${err.code})` : (err as Error).message;
      throw new LumenError('RKNN_RUN_FAILED', `RKNN ${role} run failed: ${what}`, { cause: err });
    }
    if (outputs.runDurationUs !== undefined) log.info({ model: role, npuTimeUs: outputs.runDurationUs }, 'rknn run');
    return outputs;
  };

  const detect = async (image: RgbImage): Promise<Tensor[]> => {
    if (image.width !== detPlan.width || image.height !== detPlan.height) {
      throw new Error(`the detection model takes ${detPlan.width}x${detPlan.height}, got ${image.width}x${image.height}`);
    }
    const outputs = await run('detection', det, detPlan, inputBuffer(detPlan, image.data, 1, SCRFD_NORM));
    return outputs.map((data, i) => ({ data, dims: det.outputs[i].dims }));
  };

  // A fixed batch is filled (and zero-padded) per run; runs go concurrently across contexts.
  const embed = async (crops: Uint8Array, count: number): Promise<Float32Array> => {
    const itemBytes = width * height * 3;
    const runs: Promise<Float32Array>[] = [];
    for (let start = 0; start < count; start += recPlan.batch) {
      const n = Math.min(recPlan.batch, count - start);
      const pixels = crops.subarray(start * itemBytes, (start + n) * itemBytes);
      const input = inputBuffer(recPlan, pixels, n, ARCFACE_NORM);
      runs.push(run('recognition', rec, recPlan, input).then((outputs) => outputs[embeddingIndex].subarray(0, n * dim)));
    }
    const parts = await Promise.all(runs);
    const out = new Float32Array(count * dim);
    parts.forEach((part, i) => out.set(part, i * recPlan.batch * dim));
    return out;
  };

  // Warm-up, as the ONNX engine does: the first runs allocate, and a broken model fails now.
  await detect({ data: new Uint8Array(detPlan.width * detPlan.height * 3), width: detPlan.width, height: detPlan.height });
  await embed(new Uint8Array(width * height * 3), 1);

  const describeInput = (model: RknnModel, plan: InputPlan) => ({
    dims: model.inputs[0].dims,
    type: tensorTypeName(model.inputs[0].type),
    fmt: tensorFormatName(model.inputs[0].fmt),
    feed: feedName(plan),
  });
  const info: EngineInfo = {
    runtime: 'rknn',
    device: opts.device,
    providers: ['rknpu'],
    recognition: { width, height, dim, batch: recPlan.batch },
    detection: { outputs: det.outputs.length },
    details: {
      sdkApiVersion: det.sdkVersion.api,
      sdkDriverVersion: det.sdkVersion.driver,
      library: det.libraryPath,
      soc: board.soc ?? null,
      target: opts.target ?? null,
      coreMask: board.coreMask ?? 'auto',
      contexts: det.contexts,
      perfDebug: opts.perfDebug,
      detectionInput: describeInput(det, detPlan),
      recognitionInput: describeInput(rec, recPlan),
    },
  };
  log.info(
    { sdk: det.sdkVersion, soc: board.soc, coreMask: info.details.coreMask, contexts: det.contexts, detection: info.details.detectionInput, recognition: info.details.recognitionInput },
    'rknn models loaded',
  );

  return {
    info,
    detect,
    embed,
    close: async () => {
      const results = await Promise.allSettled([det.close(), rec.close()]);
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    },
  };
}
