import { LumenError } from '../../errors.js';
import { invalid } from '../../validation.js';
import type { Logger, Tensor } from '../../types.js';
import type { Feed, TensorMeta, TensorSession } from '../engine.js';
import {
  isRknnCallError,
  loadRknnAddon,
  RKNN_FLAG_COLLECT_PERF_MASK,
  tensorFormatName,
  tensorTypeName,
  type RknnAddon,
  type RknnModel,
  type RknnRunResult,
} from './addon.js';
import { acceptsCoreMask, npuFamily, readRockchipSocs } from './board.js';
import { feedName, planInput, toHalves, type InputPlan } from './input-feed.js';

export { readRockchipSocs } from './board.js';
export { toFloat16 } from './input-feed.js';

export interface RknnOptions {
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

/** The NPU of this board, checked against the options: it opens .rknn graphs as tensor sessions. */
export interface RknnRuntime {
  /** `label` names the model in messages ("detection"). */
  open(path: string, label: string): RknnSession;
  /** The board and SDK, for /v1/info. */
  readonly details: Record<string, unknown>;
}

export interface RknnSession extends TensorSession {
  readonly sdkVersion: { api: string; driver: string };
  readonly libraryPath: string;
  readonly contexts: number;
}

const DEFAULT_COMPATIBLE = '/proc/device-tree/compatible';

/** Loads the addon in this thread and checks the board; the library itself loads with the first graph. */
export async function openRknnRuntime(opts: RknnOptions, log: Logger): Promise<RknnRuntime> {
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
      throw new LumenError(
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
  const openOpts = { libraryPath: opts.libraryPath, contexts: opts.contexts, coreMask, flags: opts.perfDebug ? RKNN_FLAG_COLLECT_PERF_MASK : 0 };
  return {
    details: { soc: soc ?? null, target: opts.target ?? null, coreMask: coreMask ?? 'auto', perfDebug: opts.perfDebug },
    open(path, label) {
      let model: RknnModel;
      try {
        model = addon.open(path, openOpts);
      } catch (err) {
        throw new LumenError('MODEL_LOAD_FAILED', `RKNN could not load the ${label} model ${path}: ${(err as Error).message}`, { cause: err });
      }
      try {
        return rknnSession(model, label, opts.normalisedInput ?? false, log);
      } catch (err) {
        void model.close().catch(() => undefined);
        throw new LumenError('MODEL_LOAD_FAILED', (err as Error).message, { cause: err });
      }
    },
  };
}

/**
 * One .rknn graph as a tensor session. Its input declares what the runtime takes: raw bytes when mean
 * and std are baked into an integer input, floats otherwise (sent as halves when the graph wants
 * FLOAT16), in the graph's own layout; each model has `contexts` runtime contexts, so that many runs overlap.
 */
function rknnSession(model: RknnModel, label: string, normalisedInput: boolean, log: Logger): RknnSession {
  const plan = planInput(label, model, normalisedInput);
  const input: TensorMeta = {
    name: model.inputs[0].name,
    dims: plan.layout === 'NCHW' ? [plan.batch, 3, plan.height, plan.width] : [plan.batch, plan.height, plan.width, 3],
    type: plan.feed === 'raw' ? 'uint8' : 'float32',
    layout: plan.layout,
  };
  const outputs: TensorMeta[] = model.outputs.map((o) => ({ name: o.name, dims: o.dims }));
  const expected = input.dims.reduce<number>((n, d) => n * (d ?? 1), 1);
  return {
    inputs: [input],
    outputs,
    sdkVersion: model.sdkVersion,
    libraryPath: model.libraryPath,
    contexts: model.contexts,
    details: {
      dims: model.inputs[0].dims,
      type: tensorTypeName(model.inputs[0].type),
      fmt: tensorFormatName(model.inputs[0].fmt),
      feed: feedName(plan),
    },
    async run(feeds: Record<string, Feed>): Promise<Tensor[]> {
      const feed = feeds[input.name];
      if (feed === undefined) throw new Error(`the ${label} model takes one input "${input.name}"; received ${Object.keys(feeds).join(', ') || 'none'}`);
      if (feed.data.length !== expected || (input.type === 'uint8') !== feed.data instanceof Uint8Array) {
        throw new Error(
          `the ${label} model takes ${expected} ${input.type} values [${input.dims.join(', ')}], received ${feed.data.length} ${feed.data instanceof Uint8Array ? 'uint8' : 'float32'}`,
        );
      }
      const results = await run(label, model, plan, plan.feed === 'float16' ? toHalves(feed.data as Float32Array) : feed.data, log);
      return results.map((data, i) => ({ data, dims: model.outputs[i].dims }));
    },
    release: () => model.close(),
  };
}

async function run(label: string, model: RknnModel, plan: InputPlan, input: ArrayBufferView, log: Logger) {
  let outputs: RknnRunResult;
  try {
    outputs = await model.run([input], { inputs: [{ type: plan.type, fmt: plan.fmt }] });
  } catch (err) {
    const what = isRknnCallError(err) ? `${err.function} returned ${err.codeName} (${err.code})` : (err as Error).message;
    throw new LumenError('RKNN_RUN_FAILED', `RKNN ${label} run failed: ${what}`, { cause: err });
  }
  if (outputs.runDurationUs !== undefined) log.info({ model: label, npuTimeUs: outputs.runDurationUs }, 'rknn run');
  return outputs;
}
