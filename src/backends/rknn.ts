import { readFile } from 'node:fs/promises';
import { LumenError } from '../errors.js';
import type { Logger, RgbImage, Tensor } from '../types.js';
import type { EngineInfo, InferenceEngine } from './engine.js';
import {
  isRknnCallError,
  loadRknnAddon,
  RKNN_FLAG_COLLECT_PERF_MASK,
  RknnTensorFormat,
  RknnTensorType,
  tensorFormatName,
  tensorTypeName,
  type RknnAddon,
  type RknnModel,
  type RknnTensorAttr,
} from './rknn-addon.js';
import { DETECTION_NORM, RECOGNITION_NORM, rgbToNchw, rgbToNhwc } from './tensor-layout.js';

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
  libraryPath?: string;
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
  /** default '/proc/device-tree/compatible', overridable for tests */
  compatiblePath?: string;
}

const DEFAULT_COMPATIBLE = '/proc/device-tree/compatible';

// ---- the board ---------------------------------------------------------------------------------

/** Rockchip SoCs named in a device-tree `compatible` file (NUL-separated), or undefined without one. */
export async function readRockchipSocs(path: string): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'latin1');
  } catch {
    return undefined;
  }
  return text
    .split('\0')
    .map((entry) => /^rockchip,(r[kv]\d{4}[a-z]?)$/i.exec(entry.trim())?.[1]?.toLowerCase())
    .filter((soc): soc is string => soc !== undefined);
}

/** SoCs that share an NPU run the same .rknn files (rknn-toolkit2 targets rk3566 and rk3568 alike). */
function npuFamily(soc: string): string {
  const s = soc.toLowerCase();
  if (s === 'rk3566' || s === 'rk3568') return 'rk356x';
  if (s.startsWith('rk3588')) return 'rk3588';
  if (s === 'rv1103' || s === 'rv1106') return 'rv110x';
  return s;
}

/** Only RK3576 and RK3588 accept rknn_set_core_mask. */
const acceptsCoreMask = (soc: string) => ['rk3576', 'rk3588'].includes(npuFamily(soc));

// ---- inputs ------------------------------------------------------------------------------------

/** How RGB pixels become the bytes of a model input, decided from the queried attribute. */
interface InputPlan {
  /** raw: the model has mean/std baked in and takes the RGB bytes. */
  feed: 'raw' | 'float32' | 'float16';
  layout: 'NHWC' | 'NCHW';
  batch: number;
  height: number;
  width: number;
  /** The rknn_input type and fmt of what we send. */
  type: number;
  fmt: number;
}

function describeAttr(attr: RknnTensorAttr): string {
  return `"${attr.name}" [${attr.dims.join(',')}] ${tensorTypeName(attr.type)} ${tensorFormatName(attr.fmt)}`;
}

function planInput(role: string, model: RknnModel): InputPlan {
  if (model.inputs.length !== 1) {
    throw new Error(`the ${role} model has ${model.inputs.length} inputs, expected one image input`);
  }
  const attr = model.inputs[0];
  const bad = (why: string) => new Error(`the ${role} model input ${describeAttr(attr)} is not usable: ${why}`);
  if (attr.dims.length !== 4) throw bad('expected a 4-D image tensor');

  let layout: InputPlan['layout'];
  if (attr.fmt === RknnTensorFormat.NHWC) layout = 'NHWC';
  else if (attr.fmt === RknnTensorFormat.NCHW) layout = 'NCHW';
  else throw bad('expected format NHWC or NCHW');
  const [batch, a, b, c] = attr.dims;
  const [height, width, channels] = layout === 'NHWC' ? [a, b, c] : [b, c, a];
  if (channels !== 3) throw bad(`expected 3 channels, the ${layout} dims say ${channels}`);
  if (!(batch >= 1)) throw bad('expected a fixed batch size');

  const fmt = RknnTensorFormat[layout];
  switch (attr.type) {
    // Integer inputs mean mean/std were baked in at conversion: the runtime normalises (and
    // quantises, for INT8) the bytes itself.
    case RknnTensorType.UINT8:
    case RknnTensorType.INT8:
      return { feed: 'raw', layout, batch, height, width, type: RknnTensorType.UINT8, fmt };
    case RknnTensorType.FLOAT32:
      return { feed: 'float32', layout, batch, height, width, type: RknnTensorType.FLOAT32, fmt };
    case RknnTensorType.FLOAT16:
      return { feed: 'float16', layout, batch, height, width, type: RknnTensorType.FLOAT16, fmt };
    default:
      throw bad('only UINT8, INT8, FLOAT32 and FLOAT16 inputs are supported');
  }
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** IEEE binary16 of a float, rounded to nearest even. */
export function toFloat16(value: number): number {
  scratch[0] = value;
  const x = scratchBits[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 31) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    let h = mant >>> shift;
    const rest = mant & ((1 << shift) - 1);
    const half = 1 << (shift - 1);
    if (rest > half || (rest === half && h & 1)) h++;
    return sign | h;
  }
  let h = (e << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++; // a carry into the exponent is still right
  return sign | h;
}

/** `count` HWC crops (back to back) as one input buffer of the plan, zero-padded to the batch. */
function inputBuffer(plan: InputPlan, pixels: Uint8Array, count: number, norm: { mean: number; std: number }): ArrayBufferView {
  const itemBytes = plan.height * plan.width * 3;
  const expected = count * itemBytes;
  if (pixels.length < expected) {
    throw new Error(`expected ${count} image(s) of ${plan.width}x${plan.height} RGB (${expected} bytes), got ${pixels.length} bytes`);
  }
  // The addon copies the bytes it is given, so an exact fit needs no copy here.
  const padded = count === plan.batch && pixels.length === expected ? pixels : new Uint8Array(plan.batch * itemBytes);
  if (padded !== pixels) padded.set(pixels.subarray(0, expected));
  if (plan.feed === 'raw') {
    if (plan.layout === 'NHWC') return padded;
    // The same bytes transposed to planes: rgbToNchw with mean 0 and std 1 keeps them exact.
    return Uint8Array.from(rgbToNchw(padded, plan.batch, plan.width, plan.height, 0, 1));
  }
  const floats =
    plan.layout === 'NCHW'
      ? rgbToNchw(padded, plan.batch, plan.width, plan.height, norm.mean, norm.std)
      : rgbToNhwc(padded, norm.mean, norm.std);
  if (plan.feed === 'float32') return floats;
  const halves = new Uint16Array(floats.length);
  for (let i = 0; i < floats.length; i++) halves[i] = toFloat16(floats[i]);
  return halves;
}

function feedName(plan: InputPlan): string {
  if (plan.feed === 'raw') return 'raw RGB bytes (mean/std baked into the model)';
  return `normalised ${plan.feed} ${plan.layout}`;
}

// ---- the engine --------------------------------------------------------------------------------

function openModel(addon: RknnAddon, role: string, path: string, opts: Parameters<RknnAddon['open']>[1]): RknnModel {
  try {
    return addon.open(path, opts);
  } catch (err) {
    throw new LumenError(500, 'MODEL_LOAD_FAILED', `RKNN could not load the ${role} model ${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/** Rockchip NPU engine: each model has `contexts` runtime contexts, so that many runs overlap. */
export async function createRknnEngine(opts: RknnEngineOptions, log: Logger): Promise<InferenceEngine> {
  if (!(Number.isInteger(opts.contexts) && opts.contexts >= 1)) {
    throw new LumenError(500, 'MODEL_LOAD_FAILED', `rknn_contexts must be an integer >= 1, got ${opts.contexts}`);
  }
  let addon: RknnAddon;
  try {
    addon = loadRknnAddon();
  } catch (err) {
    throw new LumenError(500, 'RKNN_UNAVAILABLE', (err as Error).message, { cause: err });
  }

  const compatiblePath = opts.compatiblePath ?? DEFAULT_COMPATIBLE;
  const socs = await readRockchipSocs(compatiblePath);
  const soc = socs?.[0];
  if (opts.target !== undefined && socs !== undefined) {
    const wanted = npuFamily(opts.target);
    if (!socs.some((s) => npuFamily(s) === wanted)) {
      throw new LumenError(
        500,
        'RKNN_TARGET_MISMATCH',
        `rknn_target is ${opts.target} but this board is ${socs.length ? socs.join('/') : 'not a known Rockchip SoC'} ` +
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
    throw err instanceof LumenError ? err : new LumenError(500, 'MODEL_LOAD_FAILED', (err as Error).message, { cause: err });
  }
}

async function assemble(
  opts: RknnEngineOptions,
  log: Logger,
  det: RknnModel,
  rec: RknnModel,
  board: { soc?: string; coreMask?: number; compatiblePath: string },
): Promise<InferenceEngine> {
  const detPlan = planInput('detection', det);
  if (detPlan.batch !== 1) throw new Error(`the detection model has batch ${detPlan.batch}, expected 1`);
  if (detPlan.width !== opts.detSize || detPlan.height !== opts.detSize) {
    throw new Error(
      `the detection model takes ${detPlan.width}x${detPlan.height} but the detection size is ${opts.detSize}: ` +
        `set the detection size to ${detPlan.width} or convert the model for ${opts.detSize}`,
    );
  }

  const recPlan = planInput('recognition', rec);
  const width = opts.recInputSize?.width ?? recPlan.width;
  const height = opts.recInputSize?.height ?? recPlan.height;
  // .rknn inputs are fixed at conversion, so an override can only confirm the queried size.
  if (width !== recPlan.width || height !== recPlan.height) {
    throw new Error(
      `rec_input_w/rec_input_h ask for ${width}x${height} but the recognition model takes ${recPlan.width}x${recPlan.height} ` +
        '(RKNN input sizes are fixed at conversion): remove the override or convert the model for that size',
    );
  }
  if (rec.outputs.length !== 1) log.warn({ outputs: rec.outputs.length }, 'the recognition model has several outputs: using the first');
  const dim = rec.outputs[0].nElems / recPlan.batch;
  if (!Number.isInteger(dim) || dim < 1) {
    throw new Error(`the recognition output has ${rec.outputs[0].nElems} values, not a multiple of the batch ${recPlan.batch}`);
  }

  const run = async (role: string, model: RknnModel, plan: InputPlan, input: ArrayBufferView) => {
    let outputs;
    try {
      outputs = await model.run([input], { inputs: [{ type: plan.type, fmt: plan.fmt }] });
    } catch (err) {
      const what = isRknnCallError(err) ? `${err.function} returned ${err.codeName} (${err.code})` : (err as Error).message;
      throw new LumenError(500, 'RKNN_RUN_FAILED', `RKNN ${role} run failed: ${what}`, { cause: err });
    }
    if (outputs.runDurationUs !== undefined) log.info({ model: role, npuTimeUs: outputs.runDurationUs }, 'rknn run');
    return outputs;
  };

  const detect = async (image: RgbImage): Promise<Tensor[]> => {
    if (image.width !== detPlan.width || image.height !== detPlan.height) {
      throw new Error(`the detection model takes ${detPlan.width}x${detPlan.height}, got ${image.width}x${image.height}`);
    }
    const outputs = await run('detection', det, detPlan, inputBuffer(detPlan, image.data, 1, DETECTION_NORM));
    return outputs.map((data, i) => ({ data, dims: det.outputs[i].dims }));
  };

  // A fixed batch is filled (and zero-padded) per run; runs go concurrently across contexts.
  const embed = async (crops: Uint8Array, count: number): Promise<Float32Array> => {
    const itemBytes = width * height * 3;
    const runs: Promise<Float32Array>[] = [];
    for (let start = 0; start < count; start += recPlan.batch) {
      const n = Math.min(recPlan.batch, count - start);
      const pixels = crops.subarray(start * itemBytes, (start + n) * itemBytes);
      const input = inputBuffer(recPlan, pixels, n, RECOGNITION_NORM);
      runs.push(run('recognition', rec, recPlan, input).then((outputs) => outputs[0].subarray(0, n * dim)));
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
