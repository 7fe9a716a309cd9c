/**
 * Interleaved RGB bytes (HWC, one or more images back to back) to planar float NCHW,
 * with (x - mean) / std, in RGB order.
 */
export function rgbToNchw(pixels: Uint8Array, count: number, width: number, height: number, mean: number, std: number, out?: Float32Array): Float32Array {
  const plane = width * height;
  const tensor = out ?? new Float32Array(count * 3 * plane);
  const inv = 1 / std;
  for (let n = 0; n < count; n++) {
    const src = n * plane * 3;
    const dst = n * plane * 3;
    for (let i = 0; i < plane; i++) {
      const p = src + i * 3;
      tensor[dst + i] = (pixels[p] - mean) * inv;
      tensor[dst + plane + i] = (pixels[p + 1] - mean) * inv;
      tensor[dst + 2 * plane + i] = (pixels[p + 2] - mean) * inv;
    }
  }
  return tensor;
}

/** Same normalisation, keeping the interleaved NHWC layout. */
export function rgbToNhwc(pixels: Uint8Array, mean: number, std: number): Float32Array {
  const tensor = new Float32Array(pixels.length);
  const inv = 1 / std;
  for (let i = 0; i < pixels.length; i++) tensor[i] = (pixels[i] - mean) * inv;
  return tensor;
}

export const DETECTION_NORM = { mean: 127.5, std: 128 } as const;
export const RECOGNITION_NORM = { mean: 127.5, std: 127.5 } as const;
