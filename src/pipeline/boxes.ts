import { LumenError } from '../errors.js';
import type { Box, Landmarks, Point } from '../types.js';
import { invalid as invalidText, shown as preview } from '../validation.js';
import { alignScale } from './crops.js';

/** A box as a caller sends it: bare, or an object that may carry the face's five landmarks. */
export type BoxInput = Box | { box: Box; landmarks?: Landmarks };

export interface FaceRegion {
  /** Clamped to the image. */
  box: Box;
  landmarks?: Landmarks;
}

const invalid = (message: string) => new LumenError('INVALID_BOXES', message);
const BOX_SHAPE = '[x1, y1, x2, y2] (4 finite numbers) or {"box": [x1, y1, x2, y2]}';
const LANDMARKS_SHAPE = 'five [x, y] points (left eye, right eye, nose, left mouth, right mouth)';
const isFiniteNumber = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

/** Validate and clamp caller boxes; every message names the box's index. */
export function normaliseBoxes(inputs: readonly unknown[], width: number, height: number, maxBoxes: number): FaceRegion[] {
  checkCount(inputs, maxBoxes);
  return inputs.map((input, index) => normaliseBox(input, index, width, height));
}

/**
 * Caller boxes as plain copies of their numbers, checked for shape only (the image size is not known
 * yet): what crosses to a photo worker, so no value a client built, however deep, is ever cloned.
 */
export function plainBoxes(inputs: readonly unknown[], maxBoxes: number): BoxInput[] {
  checkCount(inputs, maxBoxes);
  return inputs.map((input, index): BoxInput => {
    const box = boxNumbers(input, index);
    if (Array.isArray(input)) return box;
    const landmarks = (input as { landmarks?: unknown }).landmarks;
    return landmarks === undefined || landmarks === null ? { box } : { box, landmarks: landmarkPoints(landmarks, index) };
  });
}

function checkCount(inputs: readonly unknown[], maxBoxes: number) {
  if (inputs.length > maxBoxes) {
    throw invalid(`${inputs.length} boxes were sent; the limit is ${maxBoxes} (LUMEN_FACE_MAX_BOXES)`);
  }
}

function boxNumbers(input: unknown, index: number): Box {
  const raw = Array.isArray(input) ? input : (input as { box?: unknown } | null)?.box;
  if (!Array.isArray(raw) || raw.length !== 4 || !raw.every(isFiniteNumber)) {
    throw invalid(invalidText(`box ${index}`, BOX_SHAPE, input));
  }
  return [...raw] as Box;
}

function normaliseBox(input: unknown, index: number, width: number, height: number): FaceRegion {
  const raw = boxNumbers(input, index);
  const [x1, y1, x2, y2] = raw;
  if (!(x2 > x1 && y2 > y1)) throw invalid(invalidText(`box ${index}`, 'x2 > x1 and y2 > y1', raw));
  const box: Box = [Math.max(0, x1), Math.max(0, y1), Math.min(width, x2), Math.min(height, y2)];
  if (!(box[2] > box[0] && box[3] > box[1])) {
    throw invalid(invalidText(`box ${index}`, `a box overlapping the ${width}x${height} image`, raw));
  }
  const landmarks = Array.isArray(input) ? undefined : (input as { landmarks?: unknown }).landmarks;
  if (landmarks === undefined || landmarks === null) return { box };
  return { box, landmarks: normaliseLandmarks(landmarks, index, width, height) };
}

/** Landmarks closer together than this (RMS distance to their centre, in pixels) describe no face. */
const MIN_LANDMARK_SPREAD = 1;

function landmarkPoints(value: unknown, index: number): Landmarks {
  const ok = Array.isArray(value) && value.length === 5 && value.every((p) => Array.isArray(p) && p.length === 2 && p.every(isFiniteNumber));
  if (!ok) {
    throw invalid(invalidText(`box ${index} landmarks`, LANDMARKS_SHAPE, value));
  }
  return (value as Point[]).map(([x, y]) => [x, y]) as Landmarks;
}

function normaliseLandmarks(value: unknown, index: number, width: number, height: number): Landmarks {
  const points = landmarkPoints(value, index);
  // A face can reach past the image edge, but not by more than the image's own size.
  if (!points.every(([x, y]) => x >= -width && x <= 2 * width && y >= -height && y <= 2 * height)) {
    throw invalid(`box ${index} landmarks must lie within the ${width}x${height} image, give or take its own size; received ${preview(value)}`);
  }
  const cx = points.reduce((sum, p) => sum + p[0], 0) / points.length;
  const cy = points.reduce((sum, p) => sum + p[1], 0) / points.length;
  const spread = Math.sqrt(points.reduce((sum, [x, y]) => sum + (x - cx) ** 2 + (y - cy) ** 2, 0) / points.length);
  if (!(spread >= MIN_LANDMARK_SPREAD)) {
    throw invalid(
      `box ${index} landmarks must be spread over at least ${MIN_LANDMARK_SPREAD} pixel; received points ${spread.toPrecision(3)} pixels from their centre on average: ${preview(value)}`,
    );
  }
  const scale = alignScale(points, { width: 112, height: 112 });
  if (!(Number.isFinite(scale) && scale > 0)) {
    throw invalid(`box ${index} landmarks must map onto the face template; received ${preview(value)}`);
  }
  return points;
}

/** Parse the `boxes` form field (JSON text). The entries are checked later, by normaliseBoxes. */
export function parseBoxesJson(text: string): BoxInput[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw invalid(invalidText('boxes', `JSON such as [[10,10,120,140]] (${(err as Error).message})`, text));
  }
  if (!Array.isArray(value)) throw invalid(invalidText('boxes', 'a JSON array of boxes', value));
  return value as BoxInput[];
}
