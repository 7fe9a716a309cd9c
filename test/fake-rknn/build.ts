/**
 * Builds the fake librknnrt.so (fake_rknnrt.c, which documents its strictness, model format and
 * canned outputs) and writes the fake `.rknn` model files it reads. For the addon and backend
 * tests here and for the HTTP-level tests with LUMEN_FACE_RUNTIME=rknn.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root: this file runs from test/fake-rknn or dist/test/fake-rknn. */
export function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, 'test', 'fake-rknn', 'fake_rknnrt.c'))) return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`cannot find test/fake-rknn/fake_rknnrt.c above ${fileURLToPath(import.meta.url)}`);
    dir = parent;
  }
}

/**
 * Compiles C sources with the system `cc` into test/fake-rknn/build/, unless the output is newer
 * than every source. Writes a temporary file and renames it, so parallel test files never load a
 * half-written library.
 */
export function compileC(sources: string[], output: string, args: string[]): string {
  const outDir = join(repoRoot(), 'test', 'fake-rknn', 'build');
  const target = join(outDir, output);
  const newest = Math.max(...sources.map((s) => statSync(s).mtimeMs));
  if (existsSync(target) && statSync(target).mtimeMs >= newest) return target;
  mkdirSync(outDir, { recursive: true });
  const temp = `${target}.${process.pid}.tmp`;
  execFileSync('cc', ['-O1', '-g', '-Wall', '-o', temp, ...sources, ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
  renameSync(temp, target);
  return target;
}

/** Path of the fake librknnrt.so, built on first use. */
export function buildFakeRknn(): string {
  const source = join(repoRoot(), 'test', 'fake-rknn', 'fake_rknnrt.c');
  return compileC([source], 'libfake_rknnrt.so', ['-shared', '-fPIC', '-fvisibility=hidden', '-lpthread', '-lm']);
}

// ---- model files -------------------------------------------------------------------------------

export type FakeType = 'FLOAT32' | 'FLOAT16' | 'INT8' | 'UINT8' | 'INT16';
export type FakeFmt = 'NCHW' | 'NHWC' | 'NC1HWC2' | 'UNDEFINED';

export interface FakeTensorSpec {
  dims: number[];
  type?: FakeType;
  fmt?: FakeFmt;
  name?: string;
  qnt?: 'NONE' | 'DFP' | 'AFFINE';
  zp?: number;
  scale?: number;
  /** Inputs only: the model sees (x - mean) / std. */
  mean?: number;
  std?: number;
}

export interface FakeModelSpec {
  mode: 'sum' | 'embed' | 'scrfd';
  inputs: FakeTensorSpec[];
  outputs: FakeTensorSpec[];
  delayMs?: number;
  perfUs?: number;
  /** e.g. 'rk3568': the model then refuses rknn_set_core_mask like RK356x does. */
  soc?: string;
  /** scrfd: 1 to 3 canned faces. */
  faces?: number;
  /** Append one line per call on this model's contexts to this file. */
  trace?: string;
  /** 'FUNC:CODE' or 'FUNC:CODE:NTH'; FUNC may be 'rknn_query@CMD'. */
  fail?: string[];
}

function tensorLine(kind: 'input' | 'output', t: FakeTensorSpec): string {
  const parts = [kind, `dims=${t.dims.join(',')}`];
  for (const key of ['type', 'fmt', 'name', 'qnt', 'zp', 'scale', 'mean', 'std'] as const) {
    if (t[key] !== undefined) parts.push(`${key}=${t[key]}`);
  }
  return parts.join(' ');
}

export function fakeModelText(spec: FakeModelSpec): string {
  const lines = ['FAKERKNN', `mode=${spec.mode}`];
  if (spec.delayMs !== undefined) lines.push(`delay_ms=${spec.delayMs}`);
  if (spec.perfUs !== undefined) lines.push(`perf_us=${spec.perfUs}`);
  if (spec.soc !== undefined) lines.push(`soc=${spec.soc}`);
  if (spec.faces !== undefined) lines.push(`faces=${spec.faces}`);
  if (spec.trace !== undefined) lines.push(`trace=${spec.trace}`);
  for (const f of spec.fail ?? []) lines.push(`fail=${f}`);
  for (const t of spec.inputs) lines.push(tensorLine('input', t));
  for (const t of spec.outputs) lines.push(tensorLine('output', t));
  return `${lines.join('\n')}\n`;
}

export function writeFakeModel(path: string, spec: FakeModelSpec): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, fakeModelText(spec));
  return path;
}

/** Layout of a 4-D image input in the fake's dims order. */
export function imageDims(fmt: 'NCHW' | 'NHWC', batch: number, height: number, width: number): number[] {
  return fmt === 'NCHW' ? [batch, 3, height, width] : [batch, height, width, 3];
}

export interface FakeScrfdOptions {
  /** Input side (default 640). */
  size?: number;
  /** UINT8 (mean/std baked in, default) or FLOAT32 (fed normalised). */
  inputType?: 'UINT8' | 'FLOAT32';
  fmt?: 'NCHW' | 'NHWC';
  /** Type of the 9 outputs (default FLOAT16, as converted models have; the canned values are exact in it). */
  outputType?: FakeType;
  faces?: number;
  /** Declare outputs with a leading batch dim: [1, rows, k] instead of [rows, k]. */
  batchDim?: boolean;
  extra?: Partial<Pick<FakeModelSpec, 'delayMs' | 'perfUs' | 'soc' | 'trace' | 'fail'>>;
}

/** The 9 outputs of SCRFD-2.5G with keypoints: scores, boxes, keypoints for strides 8, 16, 32. */
export function scrfdOutputs(size: number, type: FakeType, batchDim = false): FakeTensorSpec[] {
  const rows = [8, 16, 32].map((s) => Math.ceil(size / s) ** 2 * 2);
  const outputs: FakeTensorSpec[] = [];
  for (const [width, role] of [
    [1, 'score'],
    [4, 'bbox'],
    [10, 'kps'],
  ] as const) {
    rows.forEach((r, i) => {
      outputs.push({ dims: batchDim ? [1, r, width] : [r, width], type, name: `${role}_${8 << i}` });
    });
  }
  return outputs;
}

export function writeFakeScrfdModel(path: string, opts: FakeScrfdOptions = {}): string {
  const size = opts.size ?? 640;
  const fmt = opts.fmt ?? 'NHWC';
  return writeFakeModel(path, {
    mode: 'scrfd',
    faces: opts.faces,
    inputs: [{ dims: imageDims(fmt, 1, size, size), type: opts.inputType ?? 'UINT8', fmt, name: 'input.1' }],
    outputs: scrfdOutputs(size, opts.outputType ?? 'FLOAT16', opts.batchDim),
    ...opts.extra,
  });
}

export interface FakeRecognitionOptions {
  /** Embedding size (default 512). */
  dim?: number;
  /** Input side (default 112). */
  size?: number;
  batch?: number;
  /**
   * UINT8 (default): the model subtracts 127.5 itself, like a conversion with mean baked in.
   * FLOAT32: fed (x - 127.5) / 127.5 by the backend.
   */
  inputType?: 'UINT8' | 'FLOAT32';
  fmt?: 'NCHW' | 'NHWC';
  /** Outputs declared before the embedding (which the fake always writes to its last output). */
  leadingOutputs?: FakeTensorSpec[];
  extra?: Partial<Pick<FakeModelSpec, 'delayMs' | 'perfUs' | 'soc' | 'trace' | 'fail'>>;
}

/** An `embed` model: see fakeEmbedding for what it computes. */
export function writeFakeRecognitionModel(path: string, opts: FakeRecognitionOptions = {}): string {
  const dim = opts.dim ?? 512;
  const size = opts.size ?? 112;
  const batch = opts.batch ?? 1;
  const fmt = opts.fmt ?? 'NHWC';
  const inputType = opts.inputType ?? 'UINT8';
  return writeFakeModel(path, {
    mode: 'embed',
    inputs: [{ dims: imageDims(fmt, batch, size, size), type: inputType, fmt, name: 'input.1', mean: inputType === 'UINT8' ? 127.5 : undefined }],
    outputs: [...(opts.leadingOutputs ?? []), { dims: [batch, dim], type: 'FLOAT32', name: '683' }],
    ...opts.extra,
  });
}

export interface FakePackOptions {
  model?: string;
  precision?: string;
  detection?: FakeScrfdOptions;
  recognition?: FakeRecognitionOptions;
}

/** `{dir}/{model}/rknn/{precision}/detection.rknn` and `recognition.rknn`. */
export function writeFakeRknnPack(dir: string, opts: FakePackOptions = {}) {
  const packDir = join(resolve(dir), opts.model ?? 'fake', 'rknn', opts.precision ?? 'fp16');
  return {
    dir: packDir,
    detection: writeFakeScrfdModel(join(packDir, 'detection.rknn'), opts.detection),
    recognition: writeFakeRecognitionModel(join(packDir, 'recognition.rknn'), opts.recognition),
  };
}

// ---- expected values ---------------------------------------------------------------------------

/** The canned faces of `mode=scrfd` on a 640x640 input, decoded (scale 1). See fake_rknnrt.c. */
export const FAKE_SCRFD_FACES_640 = [
  {
    score: 0.9375,
    box: [240, 224, 400, 432],
    landmarks: [
      [288, 296],
      [352, 296],
      [320, 328],
      [296, 368],
      [344, 368],
    ],
  },
  {
    score: 0.875,
    box: [40, 32, 120, 136],
    landmarks: [
      [64, 68],
      [96, 68],
      [80, 84],
      [68, 104],
      [92, 104],
    ],
  },
  {
    score: 0.8125,
    box: [520, 32, 600, 136],
    landmarks: [
      [544, 68],
      [576, 68],
      [560, 84],
      [548, 104],
      [572, 104],
    ],
  },
] as const;

/**
 * What `mode=sum` / `mode=embed` compute for one item: element k is the sum, in index order and
 * in double precision, of values[j] over j = k (mod n), times `factor`, rounded to float32.
 */
export function fakeFold(values: ArrayLike<number>, n: number, factor = 1): Float32Array {
  const acc = new Float64Array(n);
  for (let j = 0; j < values.length; j++) acc[j % n] += values[j];
  const out = new Float32Array(n);
  for (let k = 0; k < n; k++) out[k] = acc[k] * factor;
  return out;
}

/** The embedding a UINT8 fake recognition model returns for one crop (HWC bytes, NHWC model). */
export function fakeEmbedding(crop: Uint8Array, dim = 512): Float32Array {
  return fakeFold(
    Array.from(crop, (x) => x - 127.5),
    dim,
  );
}

export interface FakeReport {
  live_contexts: number;
  live_output_buffers: number;
  leaks: number;
  contexts_created: number;
  concurrent_violations: number;
  destroy_order_violations: number;
  max_parallel_runs: number;
  runs: number;
}

/** The report the fake writes at exit to FAKE_RKNN_REPORT. */
export function readFakeReport(path: string): FakeReport {
  return JSON.parse(readFileSync(path, 'utf8')) as FakeReport;
}

/** Lines of a trace file (fake `trace=` or FAKE_RKNN_TRACE), parsed. */
export function readFakeTrace(path: string): { fn: string; ctx: string; rc: number; line: string }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => ({
      line,
      fn: line.split(' ')[0],
      ctx: /ctx=(0x[0-9a-f]+)/.exec(line)?.[1] ?? '',
      rc: Number(/rc=(-?\d+)$/.exec(line)?.[1] ?? NaN),
    }));
}
