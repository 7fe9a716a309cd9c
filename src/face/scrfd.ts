import type { Box, Landmarks, Point, Tensor } from '../types.js';
import { clampBox } from './geometry.js';
import { nms } from './nms.js';

/** SCRFD (insightface scrfd.py): RGB, (x - 127.5) / 128, NCHW, letterboxed at the top-left. */
export const SCRFD_NORM = { mean: 127.5, std: 128 } as const;

export interface Detection {
  box: Box;
  score: number;
  landmarks: Landmarks | null;
}

export interface ScrfdDecodeOptions {
  /** The letterboxed network input (multiple of 32, e.g. 640). */
  inputWidth: number;
  inputHeight: number;
  /** Letterbox scale: network pixels per image pixel (InsightFace det_scale). */
  scale: number;
  /** Boxes are clamped to [0, imageWidth] x [0, imageHeight] (the upright image). */
  imageWidth: number;
  imageHeight: number;
  /** Keep anchors with score >= minScore. */
  minScore: number;
  nmsIou: number;
}

/**
 * NMS is quadratic and runs on the event loop: with min_score 0 every one of the 16,800 anchors at
 * 640 would be a candidate. The best few thousand are far more than any photo has faces.
 */
export const MAX_NMS_CANDIDATES = 3000;

/** The three outputs of one feature-map stride. */
export interface ScrfdLevel {
  stride: number;
  score: Tensor;
  box: Tensor;
  kps: Tensor | null;
  anchors: number;
}

/** Output counts of the SCRFD layouts with five-point keypoints (3 or 5 strides). */
export const SCRFD_KEYPOINT_OUTPUT_COUNTS: readonly number[] = [9, 15];

type Role = 'score' | 'box' | 'kps';

const ROLE_BY_WIDTH: Record<number, Role> = { 1: 'score', 4: 'box', 10: 'kps' };

/**
 * Feature-map side for a stride. Stride-2 convs with padding produce ceil(n/2) at each step, so
 * ceil is what the network emits; it equals InsightFace's n // s whenever n is a multiple of s.
 */
const cellsAlong = (n: number, stride: number) => Math.ceil(n / stride);

function describe(outputs: readonly Tensor[]): string {
  return outputs.map((t) => `[${t.dims.join(',')}] (${t.data.length} values)`).join(', ');
}

/**
 * Sort SCRFD outputs into per-stride (score, box, kps) groups by role and size, never by name or
 * position: the last dimension gives the role, the row count (from the actual data length, since
 * some exports declare fixed 640 shapes) gives the stride. A leading batch dim of 1 is allowed.
 */
export function groupScrfdOutputs(outputs: readonly Tensor[], inputWidth: number, inputHeight: number): ScrfdLevel[] {
  const fail = (why: string) =>
    new Error(
      `SCRFD outputs match no known layout: ${why}. Got ${outputs.length} outputs for a ` +
        `${inputWidth}x${inputHeight} input: ${describe(outputs)}`,
    );
  if (!(Number.isInteger(inputWidth) && inputWidth > 0 && Number.isInteger(inputHeight) && inputHeight > 0)) {
    throw new Error(`SCRFD input size must be positive integers, got ${inputWidth}x${inputHeight}`);
  }

  let strides: number[];
  let hasKps: boolean;
  switch (outputs.length) {
    case 6:
    case 9:
      strides = [8, 16, 32];
      hasKps = outputs.length === 9;
      break;
    case 10:
    case 15:
      strides = [8, 16, 32, 64, 128];
      hasKps = outputs.length === 15;
      break;
    default:
      throw fail('expected 6 or 9 outputs (3 strides, 2 anchors) or 10 or 15 outputs (5 strides, 1 anchor)');
  }
  const anchors = strides.length === 3 ? 2 : 1;

  const slots = strides.map((stride) => ({
    stride,
    rows: cellsAlong(inputHeight, stride) * cellsAlong(inputWidth, stride) * anchors,
    score: null as Tensor | null,
    box: null as Tensor | null,
    kps: null as Tensor | null,
  }));

  for (const t of outputs) {
    const width = t.dims.length > 0 ? t.dims[t.dims.length - 1] : NaN;
    const role = ROLE_BY_WIDTH[width];
    if (role === undefined) {
      throw fail(`an output has last dimension ${width}, expected 1 (score), 4 (box) or 10 (keypoints)`);
    }
    if (role === 'kps' && !hasKps) throw fail(`a keypoint output in a ${outputs.length}-output set`);
    const rows = t.data.length / width;
    const slot = slots.find((s) => s.rows === rows);
    if (slot === undefined) {
      throw fail(
        `a ${role} output has ${rows} rows, expected one of ${slots.map((s) => `${s.rows} (stride ${s.stride})`).join(', ')}`,
      );
    }
    if (slot[role] !== null) throw fail(`two ${role} outputs for stride ${slot.stride}`);
    slot[role] = t;
  }

  return slots.map((s) => {
    if (s.score === null || s.box === null || (hasKps && s.kps === null)) {
      const missing = [s.score ? '' : 'score', s.box ? '' : 'box', hasKps && !s.kps ? 'keypoints' : '']
        .filter(Boolean)
        .join(' and ');
      throw fail(`no ${missing} output for stride ${s.stride}`);
    }
    return { stride: s.stride, score: s.score, box: s.box, kps: s.kps, anchors };
  });
}

/**
 * Decode raw SCRFD outputs to detections in upright-image pixels, after NMS, sorted by score desc.
 * Boxes are clamped to the image (empty ones dropped); landmarks are not clamped.
 */
export function decodeScrfd(outputs: readonly Tensor[], opts: ScrfdDecodeOptions): Detection[] {
  const levels = groupScrfdOutputs(outputs, opts.inputWidth, opts.inputHeight);
  const { scale, imageWidth, imageHeight, minScore } = opts;
  if (!(scale > 0)) throw new Error(`SCRFD decode scale must be > 0, got ${scale}`);

  const candidates: Detection[] = [];
  for (const { stride, anchors, score, box, kps } of levels) {
    const cols = cellsAlong(opts.inputWidth, stride);
    const scores = score.data;
    const dist = box.data;
    const pts = kps === null ? null : kps.data;
    for (let i = 0, n = scores.length; i < n; i++) {
      const s = scores[i];
      // Scores are sigmoid outputs already. The negated test also drops NaN.
      if (!(s >= minScore)) continue;
      const cell = Math.floor(i / anchors);
      const cx = (cell % cols) * stride;
      const cy = Math.floor(cell / cols) * stride;
      const b = i * 4;
      const clamped = clampBox(
        [
          (cx - dist[b] * stride) / scale,
          (cy - dist[b + 1] * stride) / scale,
          (cx + dist[b + 2] * stride) / scale,
          (cy + dist[b + 3] * stride) / scale,
        ],
        imageWidth,
        imageHeight,
      );
      if (clamped === null) continue;
      let landmarks: Landmarks | null = null;
      if (pts !== null) {
        const k = i * 10;
        const p = (j: number): Point => [
          (cx + pts[k + 2 * j] * stride) / scale,
          (cy + pts[k + 2 * j + 1] * stride) / scale,
        ];
        landmarks = [p(0), p(1), p(2), p(3), p(4)];
      }
      candidates.push({ box: clamped, score: s, landmarks });
    }
  }
  if (candidates.length > MAX_NMS_CANDIDATES) {
    candidates.sort((a, b) => b.score - a.score);
    candidates.length = MAX_NMS_CANDIDATES;
  }
  return nms(candidates, opts.nmsIou);
}
