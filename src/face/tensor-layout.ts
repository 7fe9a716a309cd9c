import type { Feed, TensorMeta } from '../engines/engine.js';

/**
 * Interleaved RGB bytes (HWC, one or more images back to back) to planar float NCHW,
 * with (x - mean) / std, in RGB order.
 */
export function rgbToNchw(pixels: Uint8Array, count: number, width: number, height: number, mean: number, std: number, out?: Float32Array): Float32Array {
  const plane = width * height;
  const tensor = out ?? new Float32Array(count * 3 * plane);
  // A byte has 256 values: a lookup table is faster than the arithmetic on every pixel.
  const table = normalisationTable(mean, std);
  for (let n = 0; n < count; n++) {
    const base = n * plane * 3;
    const r = tensor.subarray(base, base + plane);
    const g = tensor.subarray(base + plane, base + 2 * plane);
    const b = tensor.subarray(base + 2 * plane, base + 3 * plane);
    for (let i = 0, p = base; i < plane; i++, p += 3) {
      r[i] = table[pixels[p]];
      g[i] = table[pixels[p + 1]];
      b[i] = table[pixels[p + 2]];
    }
  }
  return tensor;
}

function normalisationTable(mean: number, std: number): Float32Array {
  const table = new Float32Array(256);
  for (let v = 0; v < 256; v++) table[v] = (v - mean) / std;
  return table;
}

/** Same normalisation, keeping the interleaved NHWC layout. */
export function rgbToNhwc(pixels: Uint8Array, mean: number, std: number): Float32Array {
  const tensor = new Float32Array(pixels.length);
  const table = normalisationTable(mean, std);
  for (let i = 0; i < pixels.length; i++) tensor[i] = table[pixels[i]];
  return tensor;
}

/** `count` HWC images back to back as raw bytes in NCHW planes (a uint8 input whose graph normalises). */
function bytesToNchw(pixels: Uint8Array, count: number, width: number, height: number, out: Uint8Array): Uint8Array {
  const plane = width * height;
  for (let n = 0; n < count; n++) {
    const base = n * plane * 3;
    for (let i = 0, p = base; i < plane; i++, p += 3) {
      out[base + i] = pixels[p];
      out[base + plane + i] = pixels[p + 1];
      out[base + 2 * plane + i] = pixels[p + 2];
    }
  }
  return out;
}

export interface PixelBatch {
  /** `count` RGB images of width x height, HWC each, back to back. */
  pixels: Uint8Array;
  count: number;
  width: number;
  height: number;
  /** Images the input takes per run (at least count): the rest is zero padding. */
  rows: number;
}

/**
 * RGB images as the feed an image input asks for: normalised floats, or the bytes themselves when
 * the graph normalises; NCHW or NHWC. One pass over the pixels, and none at all for bytes in NHWC.
 */
export function pixelFeed(input: TensorMeta, { pixels, count, width, height, rows }: PixelBatch, norm: { mean: number; std: number }): Feed {
  const layout = input.layout ?? 'NCHW';
  const dims = layout === 'NCHW' ? [rows, 3, height, width] : [rows, height, width, 3];
  const size = rows * width * height * 3;
  const used = count * width * height * 3;
  if (pixels.length < used) throw new Error(`expected ${count} image(s) of ${width}x${height} RGB (${used} bytes), received ${pixels.length} bytes`);
  if (input.type === 'uint8') {
    if (layout === 'NCHW') return { data: bytesToNchw(pixels, count, width, height, new Uint8Array(size)), dims };
    if (pixels.length === size) return { data: pixels, dims };
    const padded = new Uint8Array(size);
    padded.set(pixels.subarray(0, used));
    return { data: padded, dims };
  }
  const out = new Float32Array(size);
  if (layout === 'NCHW') return { data: rgbToNchw(pixels, count, width, height, norm.mean, norm.std, out), dims };
  out.set(rgbToNhwc(pixels.subarray(0, used), norm.mean, norm.std));
  return { data: out, dims };
}

/** Batch, side and channel dimensions of a 4-D image input, read in its layout; null where dynamic. */
export function imageShape(input: TensorMeta): { batch: number | null; height: number | null; width: number | null; channels: number | null } {
  if (input.dims.length !== 4) throw new Error(`the input "${input.name}" [${input.dims.map((d) => d ?? '?').join(', ')}] is not a 4-D image tensor`);
  const [batch, a, b, c] = input.dims;
  return (input.layout ?? 'NCHW') === 'NCHW' ? { batch, channels: a, height: b, width: c } : { batch, height: a, width: b, channels: c };
}
