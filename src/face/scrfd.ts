import type { TensorMeta, TensorSession } from '../engines/engine.js';
import type { Box, Landmarks, Point, RgbImage, Tensor } from '../types.js';
import { clampBox } from './geometry.js';
import { nms } from './nms.js';
import { imageShape, pixelFeed } from './tensor-layout.js';

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
    new Error(`SCRFD outputs match no known layout: ${why}. Got ${outputs.length} outputs for a ` + `${inputWidth}x${inputHeight} input: ${describe(outputs)}`);
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
      throw fail(`a ${role} output has ${rows} rows, expected one of ${slots.map((s) => `${s.rows} (stride ${s.stride})`).join(', ')}`);
    }
    if (slot[role] !== null) throw fail(`two ${role} outputs for stride ${slot.stride}`);
    slot[role] = t;
  }

  return slots.map((s) => {
    if (s.score === null || s.box === null || (hasKps && s.kps === null)) {
      const missing = [s.score ? '' : 'score', s.box ? '' : 'box', hasKps && !s.kps ? 'keypoints' : ''].filter(Boolean).join(' and ');
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
        [(cx - dist[b] * stride) / scale, (cy - dist[b + 1] * stride) / scale, (cx + dist[b + 2] * stride) / scale, (cy + dist[b + 3] * stride) / scale],
        imageWidth,
        imageHeight,
      );
      if (clamped === null) continue;
      let landmarks: Landmarks | null = null;
      if (pts !== null) {
        const k = i * 10;
        const p = (j: number): Point => [(cx + pts[k + 2 * j] * stride) / scale, (cy + pts[k + 2 * j + 1] * stride) / scale];
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

/** Sides of a dynamic SCRFD input must be multiples of its largest stride. */
export const SCRFD_SIDE_MULTIPLE = 32;

/**
 * The SCRFD family over a tensor session of any runtime: one RGB image in, raw outputs back (decode
 * them with decodeScrfd). It owns the normalisation, the input size and the warm-up.
 */
export class Scrfd {
  private constructor(
    private readonly session: TensorSession,
    private readonly input: TensorMeta,
    /** The side of the square input: the graph's own when it is fixed, else the configured detection size. */
    readonly size: number,
    /**
     * Whether the graph takes any width and height that are multiples of 32 (the shared ONNX exports
     * declare [1, 3, ?, ?]), so a photo can be detected at its own scale and shape. Fixed graphs (RKNN
     * conversions) take their square only.
     */
    readonly dynamic: boolean,
  ) {}

  /** Checks the graph against the detection size and runs it once, so the first photo pays no allocation. */
  static async open(session: TensorSession, size: number): Promise<Scrfd> {
    if (session.inputs.length !== 1) throw new Error(`the detection model has ${session.inputs.length} inputs, expected one image input`);
    const input = session.inputs[0];
    const shape = imageShape(input);
    if (shape.batch !== null && shape.batch !== 1) throw new Error(`the detection model has batch ${shape.batch}, expected 1`);
    const dynamic = shape.width === null && shape.height === null;
    if (!dynamic && (shape.width !== size || shape.height !== size)) {
      const [w, h] = [shape.width ?? '?', shape.height ?? '?'];
      throw new Error(`the detection model takes ${w}x${h} but the detection size is ${size}: set the detection size to ${w} or convert the model for ${size}`);
    }
    const scrfd = new Scrfd(session, input, size, dynamic);
    await scrfd.detect({ data: new Uint8Array(size * size * 3), width: size, height: size });
    return scrfd;
  }

  /** How many outputs the graph has, which tells its layout (keypoints or not, 3 or 5 strides). */
  get outputCount(): number {
    return this.session.outputs.length;
  }

  /** Raw outputs for one image: the square of a fixed graph, or any multiple of 32 for a dynamic one. */
  async detect(image: RgbImage): Promise<Tensor[]> {
    const { width, height } = image;
    if (!this.dynamic && (width !== this.size || height !== this.size)) {
      throw new Error(`the detection model takes ${this.size}x${this.size}, received ${width}x${height}`);
    }
    if (this.dynamic && !(width > 0 && height > 0 && width % SCRFD_SIDE_MULTIPLE === 0 && height % SCRFD_SIDE_MULTIPLE === 0)) {
      throw new Error(`the detection model takes sides that are multiples of ${SCRFD_SIDE_MULTIPLE}, received ${width}x${height}`);
    }
    const feed = pixelFeed(this.input, { pixels: image.data, count: 1, width, height, rows: 1 }, SCRFD_NORM);
    return this.session.run({ [this.input.name]: feed });
  }
}
