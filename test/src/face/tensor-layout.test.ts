import t from 'tap';
import { rgbToNchw, rgbToNhwc } from '../../../src/face/tensor-layout.js';

t.test('interleaved RGB to planar NCHW, RGB order, (x - mean) / std', async (t) => {
  // Two 2x1 images: pixels (R,G,B) = (0,127.5-ish,255) style values.
  const pixels = Uint8Array.from([0, 128, 255, 10, 20, 30, 255, 0, 64, 1, 2, 3]);
  const out = rgbToNchw(pixels, 2, 2, 1, 127.5, 127.5);
  const f = (x: number) => Math.fround((x - 127.5) / 127.5);
  t.same(Array.from(out), [f(0), f(10), f(128), f(20), f(255), f(30), f(255), f(1), f(0), f(2), f(64), f(3)]);
  t.equal(out[0], -1);
  t.equal(out[4], 1);
  const det = rgbToNchw(Uint8Array.from([0, 0, 0]), 1, 1, 1, 127.5, 128);
  t.equal(det[0], Math.fround(-127.5 / 128), 'detector normalisation: zero padding is -0.996');
});

t.test('padding rows of a preallocated batch stay zero', async (t) => {
  const out = new Float32Array(2 * 3);
  rgbToNchw(Uint8Array.from([255, 255, 255]), 1, 1, 1, 127.5, 127.5, out);
  t.same(Array.from(out), [1, 1, 1, 0, 0, 0]);
});

t.test('NHWC keeps the layout', async (t) => {
  t.same(Array.from(rgbToNhwc(Uint8Array.from([0, 255, 128]), 127.5, 127.5)), [-1, 1, Math.fround(0.5 / 127.5)]);
});
