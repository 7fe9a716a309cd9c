/**
 * Typed loader for the compiled RKNN addon (native/). The addon dlopens librknnrt.so itself, on
 * the first open() of a model; loading the addon needs no Rockchip library.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RknnTensorType = {
  FLOAT32: 0,
  FLOAT16: 1,
  INT8: 2,
  UINT8: 3,
  INT16: 4,
  UINT16: 5,
  INT32: 6,
  UINT32: 7,
  INT64: 8,
  BOOL: 9,
} as const;

export const RknnTensorFormat = { NCHW: 0, NHWC: 1, NC1HWC2: 2, UNDEFINED: 3 } as const;

export const RknnQuantType = { NONE: 0, DFP: 1, AFFINE_ASYMMETRIC: 2 } as const;

/** rknn_init flag: collect per-run NPU time, readable through PERF_RUN. */
export const RKNN_FLAG_COLLECT_PERF_MASK = 0x8;

const nameOf = (table: Record<string, number>, value: number) => Object.keys(table).find((k) => table[k] === value) ?? `UNKNOWN(${value})`;
export const tensorTypeName = (t: number) => nameOf(RknnTensorType, t);
export const tensorFormatName = (f: number) => nameOf(RknnTensorFormat, f);

/** One rknn_tensor_attr, as INPUT_ATTR / OUTPUT_ATTR reported it. */
export interface RknnTensorAttr {
  index: number;
  name: string;
  dims: number[];
  fmt: number;
  type: number;
  qntType: number;
  zp: number;
  scale: number;
  nElems: number;
  size: number;
}

export interface RknnOpenOptions {
  /** Path or bare name of librknnrt.so (LUMEN_FACE_RKNN_LIBRARY; its default is in src/config.ts). */
  libraryPath: string;
  /** Contexts to run on (the original plus rknn_dup_context copies). Default 1. */
  contexts?: number;
  /** rknn_set_core_mask on every context; undefined skips the call (required on RK356x). */
  coreMask?: number;
  /** rknn_init flags, e.g. RKNN_FLAG_COLLECT_PERF_MASK. */
  flags?: number;
}

export interface RknnRunOptions {
  /** Per input: the rknn_input type and fmt of the bytes given. Default: the input attr's. */
  inputs?: { type?: number; fmt?: number }[];
}

/** Outputs as float32 (want_float). runDurationUs is PERF_RUN, when the model collects it. */
export type RknnRunResult = Float32Array[] & { runDurationUs?: number };

/**
 * Errors from a runtime call carry the call and its return code. Other failures (bad arguments,
 * a missing library, a closed model) are plain Errors.
 */
export interface RknnCallError extends Error {
  function: string;
  code: number;
  codeName: string;
}

export function isRknnCallError(e: unknown): e is RknnCallError {
  return e instanceof Error && typeof (e as Partial<RknnCallError>).function === 'string' && typeof (e as Partial<RknnCallError>).code === 'number';
}

export interface RknnModel {
  readonly path: string;
  readonly libraryPath: string;
  readonly inputs: readonly RknnTensorAttr[];
  readonly outputs: readonly RknnTensorAttr[];
  readonly sdkVersion: { api: string; driver: string };
  readonly contexts: number;
  readonly coreMask: number | null;
  readonly flags: number;
  /**
   * One inference: one buffer per input (bytes as `options.inputs[i].type` requires). The bytes
   * are copied before the call returns. Runs beyond the contexts wait for a free one.
   */
  run(buffers: readonly ArrayBufferView[], options?: RknnRunOptions): Promise<RknnRunResult>;
  /** Waits for accepted runs, then destroys the dup'ed contexts and the original. */
  close(): Promise<void>;
}

interface NativeAddon {
  open(modelPath: string, options: RknnOpenOptions): RknnModel;
  abi: { tensorAttrSize: number; inputSize: number; outputSize: number; contextSize: number };
}

export interface RknnAddon {
  /** Loads librknnrt on first use, creates the contexts and queries the attributes. */
  open(modelPath: string, options: RknnOpenOptions): RknnModel;
  /** sizeof of the structs the addon was compiled with. */
  readonly abi: NativeAddon['abi'];
}

const ADDON_FILE = join('native', 'build', 'Release', 'lumen_rknn.node');

/** The package root: the nearest directory above this module holding native/binding.gyp. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'native', 'binding.gyp'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find the lumen-face package root above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

let loaded: RknnAddon | undefined;

export function loadRknnAddon(): RknnAddon {
  if (loaded) return loaded;
  const root = packageRoot();
  const file = join(root, ADDON_FILE);
  let native: NativeAddon;
  try {
    native = createRequire(import.meta.url)(file) as NativeAddon;
  } catch (cause) {
    const missing = !existsSync(file);
    throw new Error(
      `The RKNN runtime needs the native addon, which ${missing ? 'is not built' : 'failed to load'} (${file}). ` +
        `Build it with \`node native/install.mjs\` (or \`npm rebuild lumen-face\`) in ${root}; ` +
        'that needs python3, make and a C++ compiler (g++). On Debian/Ubuntu: apt-get install python3 make g++.',
      { cause },
    );
  }
  loaded = { abi: native.abi, open: (modelPath, options) => native.open(modelPath, options) };
  return loaded;
}
