import pLimit from 'p-limit';
import { applyAffine, estimateSimilarity, invertAffine, warpAffine, type Affine } from '../face/align.js';
import { arcfaceTemplate } from '../face/arcface.js';
import type { DecodeLadder } from '../image/ladder.js';
import type { Box, Landmarks, RgbImage } from '../types.js';
import { rawPipeline, toRgb } from '../image/source.js';

export interface CropSize {
  width: number;
  height: number;
}

/** What to crop for one face: aligned on its landmarks, or a plain square around its box. */
export type CropRequest = { landmarks: Landmarks } | { box: Box };

/**
 * A face keeps at least this many decoded pixels per pixel of the recognition input, so the warp
 * samples pixels at least as fine as the reference's full-size decode would give it after its pre-shrink.
 */
export const RESOLUTION_MARGIN = 1.5;

/** Recognition-input pixels per image pixel when these landmarks are aligned to the template. */
export function alignScale(landmarks: Landmarks, size: CropSize): number {
  const m = estimateSimilarity(landmarks, arcfaceTemplate(size.width, size.height));
  return Math.hypot(m[0], m[3]);
}

/** Decoded pixels per image pixel a crop needs (at most 1: the full decode serves everything). */
export function cropResolution(request: CropRequest, size: CropSize): number {
  const scale =
    'landmarks' in request
      ? alignScale(request.landmarks, size)
      : Math.max(size.width, size.height) / Math.max(1, request.box[2] - request.box[0], request.box[3] - request.box[1]);
  return Math.min(1, RESOLUTION_MARGIN * scale);
}

/** Crops worked on at once: enough to keep sharp's threads busy, few enough to bound memory. */
const AT_ONCE = 4;

/**
 * Crops for the recognizer, every one cut from the same pixels: the ladder's, at the finest resolution
 * any of them needs (one finer decode at most; coarser faces are pre-shrunk from those pixels).
 */
export async function cropFaces(requests: readonly CropRequest[], ladder: DecodeLadder, size: CropSize): Promise<Uint8Array[]> {
  if (requests.length === 0) return [];
  const { image, sx, sy } = await ladder.atResolution(Math.max(...requests.map((r) => cropResolution(r, size))));
  const limit = pLimit(AT_ONCE);
  return Promise.all(
    requests.map((r) =>
      limit(() =>
        'landmarks' in r
          ? alignedCrop(image, r.landmarks.map(([x, y]) => [x * sx, y * sy]) as Landmarks, size)
          : squareCrop(image, [r.box[0] * sx, r.box[1] * sy, r.box[2] * sx, r.box[3] * sy], size),
      ),
    ),
  );
}

/**
 * Square crop around a box, padded with black outside the image so the face is not stretched,
 * resized (natively, with proper antialiasing) to the recognition input. Only the part inside the
 * image is resized, then padded at the crop's size, so a huge box never allocates a huge square.
 */
export async function squareCrop(image: RgbImage, box: Box, size: CropSize): Promise<Uint8Array> {
  const [x1, y1, x2, y2] = box;
  const side = Math.max(1, Math.round(Math.max(x2 - x1, y2 - y1)));
  const left = Math.round((x1 + x2) / 2 - side / 2);
  const top = Math.round((y1 + y2) / 2 - side / 2);
  const inside = intersect(left, top, side, side, image.width, image.height);
  // Crop pixels per image pixel, and where the inside part lands in the crop.
  const sx = size.width / side;
  const sy = size.height / side;
  const padLeft = Math.min(size.width - 1, Math.round((inside.left - left) * sx));
  const padTop = Math.min(size.height - 1, Math.round((inside.top - top) * sy));
  const width = Math.max(1, Math.min(size.width - padLeft, Math.round((inside.left + inside.width - left) * sx) - padLeft));
  const height = Math.max(1, Math.min(size.height - padTop, Math.round((inside.top + inside.height - top) * sy) - padTop));
  // Two passes: within one pipeline sharp always resizes before it extends, whatever the call order.
  const resized = await toRgb(rawPipeline(image).extract(inside).resize(width, height, { fit: 'fill' }));
  if (width === size.width && height === size.height) return resized.data;
  const padded = await toRgb(
    rawPipeline(resized).extend({
      left: padLeft,
      top: padTop,
      right: size.width - padLeft - width,
      bottom: size.height - padTop - height,
      background: { r: 0, g: 0, b: 0 },
    }),
  );
  return padded.data;
}

/**
 * The face warped onto the ArcFace template. When the face is much larger than the template, a region
 * around it is first shrunk by sharp (to about 1.5 pixels per template pixel) so the bilinear warp does
 * not alias. The region's corners sit on a grid of REGION_GRID pixels and the shrink is rounded to 1 %,
 * so landmarks that move by a hundredth of a pixel (rounded in JSON and sent back) give the same shrunk
 * pixels and move the crop by as little, not by another resampling.
 */
export async function alignedCrop(image: RgbImage, landmarks: Landmarks, size: CropSize): Promise<Uint8Array> {
  const transform = estimateSimilarity(landmarks, arcfaceTemplate(size.width, size.height));
  const scale = Math.hypot(transform[0], transform[3]);
  if (scale >= 0.5) return warpAffine(image, transform, size.width, size.height);

  const inverse = invertAffine(transform);
  const corners = [
    [0, 0],
    [size.width, 0],
    [0, size.height],
    [size.width, size.height],
  ].map(([u, v]) => applyAffine(inverse, [u, v]));
  const xs = corners.map((p) => p[0]);
  const ys = corners.map((p) => p[1]);
  // A margin of a few shrunk pixels, so bilinear samples at the crop's edge never reach the region's border.
  const margin = Math.ceil(3 / scale);
  const down = (v: number) => Math.floor(v / REGION_GRID) * REGION_GRID;
  const up = (v: number) => Math.ceil(v / REGION_GRID) * REGION_GRID;
  const left = down(Math.min(...xs) - margin);
  const top = down(Math.min(...ys) - margin);
  const inside = intersect(left, top, up(Math.max(...xs) + margin) - left, up(Math.max(...ys) + margin) - top, image.width, image.height);
  const shrink = Math.round(scale * 1.5 * 100) / 100;
  const shrunkWidth = Math.max(1, Math.round(inside.width * shrink));
  const shrunkHeight = Math.max(1, Math.round(inside.height * shrink));
  const region = await toRgb(rawPipeline(image).extract(inside).resize(shrunkWidth, shrunkHeight, { fit: 'fill' }));
  // Map shrunk-region pixels back to image pixels, then through the similarity.
  const sx = inside.width / shrunkWidth;
  const sy = inside.height / shrunkHeight;
  const toImage: Affine = [sx, 0, inside.left + 0.5 * sx - 0.5, 0, sy, inside.top + 0.5 * sy - 0.5];
  return warpAffine(region, compose(transform, toImage), size.width, size.height);
}

/** The pre-shrunk region's corners are multiples of this (see alignedCrop). */
const REGION_GRID = 16;

/** a ∘ b: apply b, then a. */
function compose(a: Affine, b: Affine): Affine {
  return [
    a[0] * b[0] + a[1] * b[3],
    a[0] * b[1] + a[1] * b[4],
    a[0] * b[2] + a[1] * b[5] + a[2],
    a[3] * b[0] + a[4] * b[3],
    a[3] * b[1] + a[4] * b[4],
    a[3] * b[2] + a[4] * b[5] + a[5],
  ];
}

function intersect(left: number, top: number, width: number, height: number, imageWidth: number, imageHeight: number) {
  const l = Math.min(Math.max(0, left), imageWidth - 1);
  const t = Math.min(Math.max(0, top), imageHeight - 1);
  const r = Math.max(l + 1, Math.min(imageWidth, left + width));
  const b = Math.max(t + 1, Math.min(imageHeight, top + height));
  return { left: l, top: t, width: r - l, height: b - t };
}

/** A rectangle of an RGB image, cut natively by sharp (never a per-pixel loop on the event loop). */
export async function regionOf(image: RgbImage, left: number, top: number, width: number, height: number): Promise<RgbImage> {
  return toRgb(rawPipeline(image).extract(intersect(left, top, width, height, image.width, image.height)));
}
