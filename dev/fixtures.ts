/**
 * Shared fixtures of the tests and the benchmarks (both import this development module; neither imports the other): where the real model packs and the
 * labelled photos live, a backend factory over those packs, and small vector helpers.
 *
 * Nothing here skips quietly: a missing directory or pack file throws with a message that says
 * what was looked for and how to point the tests somewhere else.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { boxArea, iou } from '../src/face/geometry.js';
import { createBackend, type Box, type FaceBackend } from '../src/index.js';
import { sharedDir } from './paths.js';

/** The library's own geometry, re-exported for the tests. */
export { boxArea, iou };

/** Static tests import REPO_ROOT from ./paths.js, which checks nothing; this module insists the shared data exists. */
export { REPO_ROOT } from './paths.js';

function requireDir(path: string, what: string, variable: string): string {
  let ok = false;
  try {
    ok = statSync(path).isDirectory();
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new Error(
      `${what} not found at ${path}. The quality tests need real ${what}; ` + `set ${variable} to a directory that holds them (they are never skipped).`,
    );
  }
  return path;
}

export const MODELS_DIR = requireDir(process.env.LUMEN_FACE_TEST_MODELS || sharedDir('models'), 'model packs', 'LUMEN_FACE_TEST_MODELS');

export const FACES_DIR = requireDir(process.env.LUMEN_FACE_TEST_FACES || sharedDir('faces'), 'labelled face photos', 'LUMEN_FACE_TEST_FACES');

export interface GroupLabel {
  /** Clearly visible faces. */
  faces: number;
  /** What a reasonable detector should at least find. */
  faces_min: number;
  /** Also counting partial or tiny background faces. */
  faces_max: number;
  note?: string;
}

export interface Labels {
  /** identity name -> photo paths relative to FACES_DIR */
  identities: Record<string, string[]>;
  /** group photo path -> expected face counts */
  groups: Record<string, GroupLabel>;
  /** photo paths with no face */
  noface: string[];
}

let labelsCache: Labels | undefined;

/** labels.json, checked for shape and for every file it names existing. */
export function loadLabels(): Labels {
  if (labelsCache) return labelsCache;
  const file = join(FACES_DIR, 'labels.json');
  if (!existsSync(file)) throw new Error(`labels.json not found in ${FACES_DIR}`);
  const raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<Labels>;
  if (!raw.identities || typeof raw.identities !== 'object' || !raw.groups || typeof raw.groups !== 'object' || !Array.isArray(raw.noface)) {
    throw new Error(`${file} must have "identities", "groups" and "noface"`);
  }
  const labels = raw as Labels;
  const all = [...Object.values(labels.identities).flat(), ...Object.keys(labels.groups), ...labels.noface];
  const missing = all.filter((p) => !existsSync(join(FACES_DIR, p)));
  if (missing.length > 0) throw new Error(`labels.json names files missing from ${FACES_DIR}: ${missing.join(', ')}`);
  for (const [path, g] of Object.entries(labels.groups)) {
    if (!Number.isInteger(g.faces_min) || !Number.isInteger(g.faces_max) || g.faces_min > g.faces_max) {
      throw new Error(`labels.json: bad faces_min/faces_max for ${path}`);
    }
  }
  labelsCache = labels;
  return labels;
}

/** One identity photo with its label. */
export interface IdentityPhoto {
  identity: string;
  path: string;
}

export function identityPhotos(labels: Labels = loadLabels()): IdentityPhoto[] {
  return Object.entries(labels.identities).flatMap(([identity, paths]) => paths.map((path) => ({ identity, path })));
}

/** Bytes of a photo, path relative to FACES_DIR. */
export function readFace(path: string): Buffer {
  return readFileSync(join(FACES_DIR, path));
}

export const PACK_FILES = ['detection.onnx', 'recognition.onnx'] as const;

/** Throws unless `{MODELS_DIR}/{model}/onnxrt/{precision}/` holds both pack files. */
export function requirePack(model: string, precision: string): string {
  const dir = join(MODELS_DIR, model, 'onnxrt', precision);
  const missing = PACK_FILES.filter((f) => {
    try {
      return !statSync(join(dir, f)).isFile();
    } catch {
      return true;
    }
  });
  if (missing.length > 0) {
    throw new Error(`model pack ${model}/${precision} is incomplete: missing ${missing.map((f) => join(dir, f)).join(', ')}`);
  }
  return dir;
}

/**
 * A backend over the local packs, offline, with a throw-away cache directory (removed on close).
 * `extra` adds or overrides LUMEN_FACE_* variables.
 */
export async function backendFor(model = 'scrfd_2.5g_mbf', precision = 'fp32', extra: Record<string, string> = {}): Promise<FaceBackend> {
  requirePack(model, precision);
  const cacheDir = mkdtempSync(join(tmpdir(), 'lumen-face-test-cache-'));
  let backend: FaceBackend;
  try {
    backend = await createBackend({
      env: {
        LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
        LUMEN_FACE_MODEL_NAME: model,
        LUMEN_FACE_PRECISION: precision,
        LUMEN_FACE_OFFLINE: '1',
        LUMEN_FACE_CACHE_DIR: cacheDir,
        ...extra,
      },
    });
  } catch (err) {
    rmSync(cacheDir, { recursive: true, force: true });
    throw err;
  }
  const close = backend.close;
  return {
    ...backend,
    close: async () => {
      try {
        await close();
      } finally {
        rmSync(cacheDir, { recursive: true, force: true });
      }
    },
  };
}

/**
 * Engine settings for the tap suite. tap runs two test files at once (.taprc `jobs: 2`) and this
 * machine has two cores: one intra-op thread per session keeps the two processes from spinning
 * against each other. Results do not depend on the thread count; the benchmarks use the defaults.
 */
export const TEST_ENGINE: Record<string, string> = { LUMEN_FACE_INTRA_OP_THREADS: '1' };

/** Cosine of two unit vectors: their dot product. */
export function cosine(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`cosine of vectors of different length: ${a.length} and ${b.length}`);
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += a[i] * b[i];
  return dot;
}

export function norm(a: ArrayLike<number>): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i] * a[i];
  return Math.sqrt(s);
}

/** For each face in `a`, the index of the face in `b` with the highest IoU (-1 when none overlaps). */
export function matchByIou(a: readonly { box: Box }[], b: readonly { box: Box }[]): number[] {
  return a.map((fa) => {
    let best = -1;
    let bestIou = 0;
    b.forEach((fb, j) => {
      const o = iou(fa.box, fb.box);
      if (o > bestIou) {
        bestIou = o;
        best = j;
      }
    });
    return best;
  });
}

/** Linear-interpolated percentile of a list (p in 0..100). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

export const mean = (values: readonly number[]): number => values.reduce((s, v) => s + v, 0) / values.length;

export interface PairStats {
  same: number[];
  different: number[];
}

/** Cosines of all unordered pairs, split by whether the labels match. */
export function pairCosines(labels: readonly string[], vectors: readonly Float32Array[]): PairStats {
  const same: number[] = [];
  const different: number[] = [];
  for (let i = 0; i < vectors.length; i++) {
    for (let j = i + 1; j < vectors.length; j++) {
      (labels[i] === labels[j] ? same : different).push(cosine(vectors[i], vectors[j]));
    }
  }
  return { same, different };
}

/**
 * Leave-one-out rank-1 identification: each vector's nearest other vector must carry its label.
 * Only vectors whose identity has at least one other photo take part.
 */
export function rank1(labels: readonly string[], vectors: readonly Float32Array[]): { correct: number; total: number; misses: string[] } {
  let correct = 0;
  let total = 0;
  const misses: string[] = [];
  for (let i = 0; i < vectors.length; i++) {
    if (!labels.some((l, j) => j !== i && l === labels[i])) continue;
    total++;
    let best = -1;
    let bestCos = -Infinity;
    for (let j = 0; j < vectors.length; j++) {
      if (j === i) continue;
      const c = cosine(vectors[i], vectors[j]);
      if (c > bestCos) {
        bestCos = c;
        best = j;
      }
    }
    if (labels[best] === labels[i]) correct++;
    else misses.push(`#${i} ${labels[i]} -> ${labels[best]} (${bestCos.toFixed(3)})`);
  }
  return { correct, total, misses };
}

/**
 * The best accuracy any single threshold reaches on same/different pairs
 * (a pair is called "same" when its cosine is >= the threshold).
 */
export function bestThreshold({ same, different }: PairStats): { accuracy: number; threshold: number; errors: number } {
  const scored = [...same.map((c) => ({ c, same: true })), ...different.map((c) => ({ c, same: false }))].sort((a, b) => a.c - b.c);
  const total = scored.length;
  // Threshold below everything: every pair called "same".
  let errors = different.length;
  let bestErrors = errors;
  let threshold = scored.length > 0 ? scored[0].c - 1e-6 : 0;
  for (let i = 0; i < scored.length; i++) {
    // Move the threshold just above scored[i]: it is now called "different".
    errors += scored[i].same ? 1 : -1;
    const tied = i + 1 < scored.length && scored[i + 1].c === scored[i].c;
    if (!tied && errors < bestErrors) {
      bestErrors = errors;
      threshold = i + 1 < scored.length ? (scored[i].c + scored[i + 1].c) / 2 : scored[i].c + 1e-6;
    }
  }
  return { accuracy: total === 0 ? NaN : 1 - bestErrors / total, threshold, errors: bestErrors };
}

/** The face with the largest box (results are already sorted that way; this does not rely on it). */
export function largest<F extends { box: Box }>(faces: readonly F[]): F | undefined {
  let best: F | undefined;
  for (const f of faces) if (!best || boxArea(f.box) > boxArea(best.box)) best = f;
  return best;
}

/**
 * Map with a small concurrency, results in input order. Two or three calls in flight let one
 * image decode (libuv threads) overlap another's inference (the ONNX worker) without flooding a
 * small machine.
 */
export async function mapLimit<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const limit = pLimit(concurrency);
  return Promise.all(items.map((item, i) => limit(() => fn(item, i))));
}

/** Environment for a service over the shared scrfd_2.5g_mbf fp32 pack, offline, quiet. */
export function testEnv(extra: Record<string, string> = {}): Record<string, string> {
  return {
    LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
    LUMEN_FACE_MODEL_NAME: 'scrfd_2.5g_mbf',
    LUMEN_FACE_PRECISION: 'fp32',
    LUMEN_FACE_OFFLINE: '1',
    LUMEN_FACE_LOG_LEVEL: 'silent',
    ...extra,
  };
}
