import type { Point, RgbImage } from '../types.js';
import { det2, mul2, svd2x2 } from './svd2.js';

/** [a, b, tx, c, d, ty]: x' = a*x + b*y + tx, y' = c*x + d*y + ty (cv2 2x3 layout, row-major). */
export type Affine = [number, number, number, number, number, number];

export function applyAffine(m: Affine, p: Point): Point {
  return [m[0] * p[0] + m[1] * p[1] + m[2], m[3] * p[0] + m[4] * p[1] + m[5]];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  if (!Number.isFinite(det) || det === 0) throw new Error(`affine transform is not invertible: [${m.join(', ')}]`);
  const ia = d / det;
  const ib = -b / det;
  const ic = -c / det;
  const id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

/**
 * Least-squares similarity (scale, rotation, translation) taking src onto dst, Umeyama (1991)
 * without reflection, as skimage SimilarityTransform.estimate / insightface estimate_norm.
 */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  if (n < 2 || dst.length !== n) {
    throw new Error(`estimateSimilarity needs two equal-length sets of >= 2 points, got ${n} and ${dst.length}`);
  }
  let msx = 0;
  let msy = 0;
  let mdx = 0;
  let mdy = 0;
  for (let i = 0; i < n; i++) {
    msx += src[i][0];
    msy += src[i][1];
    mdx += dst[i][0];
    mdy += dst[i][1];
  }
  msx /= n;
  msy /= n;
  mdx /= n;
  mdy /= n;

  let varSrc = 0;
  let c00 = 0;
  let c01 = 0;
  let c10 = 0;
  let c11 = 0;
  for (let i = 0; i < n; i++) {
    const sx = src[i][0] - msx;
    const sy = src[i][1] - msy;
    const dx = dst[i][0] - mdx;
    const dy = dst[i][1] - mdy;
    varSrc += sx * sx + sy * sy;
    c00 += dx * sx;
    c01 += dx * sy;
    c10 += dy * sx;
    c11 += dy * sy;
  }
  varSrc /= n;
  if (!(varSrc > 0)) throw new Error('estimateSimilarity: source points all coincide (or are not finite)');

  const { u, s, vt } = svd2x2([c00 / n, c01 / n, c10 / n, c11 / n]);
  // D = diag(1, -1) whenever U·Vᵀ would be a reflection (det Σ < 0, or rank 1 with det U·det V < 0),
  // so the result is always a proper rotation.
  const flip = det2(u) * det2(vt) < 0 ? -1 : 1;
  const r = mul2(mul2(u, [1, 0, 0, flip]), vt);
  const scale = (s[0] + flip * s[1]) / varSrc;
  const a = scale * r[0];
  const b = scale * r[1];
  const c = scale * r[2];
  const d = scale * r[3];
  return [a, b, mdx - (a * msx + b * msy), c, d, mdy - (c * msx + d * msy)];
}

/**
 * Warp an RGB image: output pixel (u, v) samples the source bilinearly at inverse(srcToDst)·(u, v),
 * integer coordinates being pixel centres, like cv2.warpAffine(INTER_LINEAR, BORDER_CONSTANT, 0).
 * Neighbours outside the image count as black, so edge samples blend with black.
 * OpenCV quantises coordinates to 1/32 px; this samples exactly, so values may differ by 1 level.
 */
export function warpAffine(image: RgbImage, srcToDst: Affine, outWidth: number, outHeight: number): Uint8Array {
  const [a, b, tx, c, d, ty] = invertAffine(srcToDst);
  const { data, width, height } = image;
  if (data.length < width * height * 3) {
    throw new Error(`RgbImage data has ${data.length} bytes, expected ${width * height * 3} for ${width}x${height}`);
  }
  const out = new Uint8Array(outWidth * outHeight * 3);
  const row = width * 3;
  let o = 0;
  for (let v = 0; v < outHeight; v++) {
    for (let u = 0; u < outWidth; u++, o += 3) {
      const x = a * u + b * v + tx;
      const y = c * u + d * v + ty;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      if (!(x0 >= -1 && y0 >= -1 && x0 < width && y0 < height)) continue;
      const fx = x - x0;
      const fy = y - y0;
      const w00 = (1 - fx) * (1 - fy);
      const w01 = fx * (1 - fy);
      const w10 = (1 - fx) * fy;
      const w11 = fx * fy;
      const p = y0 * row + x0 * 3;
      // +0.5 then truncation rounds half up; the weighted sum never exceeds 255.5.
      if (x0 >= 0 && y0 >= 0 && x0 + 1 < width && y0 + 1 < height) {
        const q = p + row;
        out[o] = (w00 * data[p] + w01 * data[p + 3] + w10 * data[q] + w11 * data[q + 3] + 0.5) | 0;
        out[o + 1] = (w00 * data[p + 1] + w01 * data[p + 4] + w10 * data[q + 1] + w11 * data[q + 4] + 0.5) | 0;
        out[o + 2] = (w00 * data[p + 2] + w01 * data[p + 5] + w10 * data[q + 2] + w11 * data[q + 5] + 0.5) | 0;
      } else {
        const in0 = x0 >= 0;
        const in1 = x0 + 1 < width;
        const top = y0 >= 0;
        const bottom = y0 + 1 < height;
        for (let ch = 0; ch < 3; ch++) {
          let acc = 0.5;
          if (top && in0) acc += w00 * data[p + ch];
          if (top && in1) acc += w01 * data[p + 3 + ch];
          if (bottom && in0) acc += w10 * data[p + row + ch];
          if (bottom && in1) acc += w11 * data[p + row + 3 + ch];
          out[o + ch] = acc | 0;
        }
      }
    }
  }
  return out;
}
