import { LumenError } from '../src/errors.js';
import type { DetectOptions as DetectOptionsInput, Landmarks } from '../src/index.js';

/** Python's float() on trimmed text, without its words (inf, nan) or digit separators: "50", "50.0", "-1", "5e1". */
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

const PREVIEW = 80;
/** The one phrasing of validation messages: the name, what was expected, what was received (a long value cut short). */
const bad = (key: string, expected: string, received: string) => {
  const shown = received.length > PREVIEW ? `${JSON.stringify(received.slice(0, PREVIEW))}...` : JSON.stringify(received);
  return new LumenError('INVALID_PARAMETER', `meta "${key}" is invalid: expected ${expected}; received ${shown}`);
};

/**
 * A meta value as a number, read the way Lumen's Python node reads it: float(text), and int(float(text))
 * for the counts, so "50" and "50.0" both mean 50. Text that is no number is refused instead of being
 * replaced by the default, so a client's typo does not silently change what it gets.
 */
function readNumber(meta: Record<string, string>, key: string, fallback: number, expected: string, integer: boolean): number {
  const text = meta[key];
  if (text === undefined) return fallback;
  const trimmed = text.trim();
  if (!NUMBER_TEXT.test(trimmed)) throw bad(key, expected, text);
  const value = Number(trimmed);
  if (!Number.isFinite(value)) throw bad(key, expected, text);
  return integer ? Math.trunc(value) : value;
}

function inRange(key: string, value: number, text: string | undefined, expected: string, ok: (v: number) => boolean): number {
  if (!ok(value)) throw bad(key, expected, text ?? String(value));
  return value;
}

/** The detection meta of face_detect and face_detect_and_embed, with Lumen's defaults. */
export interface DetectionMeta {
  minScore: number;
  nms: number;
  /** Faces whose box is smaller than this on its shorter side are dropped. */
  faceSizeMin: number;
  /** Faces whose box is larger than this on its longer side are dropped. */
  faceSizeMax: number;
  /** Undefined: no limit (Lumen's -1, or any count below 1). */
  maxFaces: number | undefined;
}

export const DETECTION_DEFAULTS = { detection_confidence_threshold: 0.7, nms_threshold: 0.4, face_size_min: 50, face_size_max: 1000, max_faces: -1 } as const;

export function readDetectionMeta(meta: Record<string, string>): DetectionMeta {
  const d = DETECTION_DEFAULTS;
  const score = 'a decimal number from 0 to 1';
  const minScore = inRange(
    'detection_confidence_threshold',
    readNumber(meta, 'detection_confidence_threshold', d.detection_confidence_threshold, score, false),
    meta.detection_confidence_threshold,
    score,
    (v) => v >= 0 && v <= 1,
  );
  const iou = 'a decimal number above 0 and at most 1';
  const nms = inRange('nms_threshold', readNumber(meta, 'nms_threshold', d.nms_threshold, iou, false), meta.nms_threshold, iou, (v) => v > 0 && v <= 1);
  const pixels = 'a number of pixels, at least 0 ("50" or "50.0")';
  const faceSizeMin = inRange('face_size_min', readNumber(meta, 'face_size_min', d.face_size_min, pixels, true), meta.face_size_min, pixels, (v) => v >= 0);
  const faceSizeMax = inRange('face_size_max', readNumber(meta, 'face_size_max', d.face_size_max, pixels, true), meta.face_size_max, pixels, (v) => v >= 0);
  const maxFaces = readNumber(meta, 'max_faces', d.max_faces, 'a whole number; -1 for no limit', true);
  return { minScore, nms, faceSizeMin, faceSizeMax, maxFaces: maxFaces >= 1 ? maxFaces : undefined };
}

/** The backend's detection options for this meta (face_size_max is applied to the answer: see tasks.ts). */
export function detectOptions(meta: DetectionMeta, maxFaces: number | undefined = meta.maxFaces): DetectOptionsInput {
  return { min_score: meta.minScore, nms: meta.nms, min_size: meta.faceSizeMin, ...(maxFaces !== undefined && { max_faces: maxFaces }) };
}

const LANDMARKS_SHAPE = 'JSON of five {"x": number, "y": number} points (left eye, right eye, nose, left mouth corner, right mouth corner)';

/** face_embed's `landmarks`: five {"x","y"} points as JSON text, or undefined when absent. */
export function readLandmarks(meta: Record<string, string>): Landmarks | undefined {
  const text = meta.landmarks;
  if (text === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw bad('landmarks', LANDMARKS_SHAPE, text);
  }
  const isPoint = (p: unknown): p is { x: number; y: number } =>
    typeof p === 'object' && p !== null && Number.isFinite((p as { x?: unknown }).x) && Number.isFinite((p as { y?: unknown }).y);
  if (!Array.isArray(parsed) || parsed.length !== 5 || !parsed.every(isPoint)) throw bad('landmarks', LANDMARKS_SHAPE, text);
  return parsed.map((p) => [p.x, p.y]) as Landmarks;
}
