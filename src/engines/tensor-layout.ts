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
