import t from 'tap';
import type { Point, RgbImage } from '../../../src/types.js';
import { applyAffine, estimateSimilarity, warpAffine, type Affine } from '../../../src/face/align.js';
import { arcfaceTemplate } from '../../../src/face/arcface.js';

function randomImage(width: number, height: number, seed: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  let s = seed >>> 0;
  for (let i = 0; i < data.length; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = (s >>> 24) & 0xfe; // even values, so half-pixel averages are exact
  }
  return { data, width, height };
}

const px = (img: RgbImage, x: number, y: number, ch: number) =>
  x >= 0 && y >= 0 && x < img.width && y < img.height ? img.data[(y * img.width + x) * 3 + ch] : 0;

const IDENTITY: Affine = [1, 0, 0, 0, 1, 0];

t.test('identity reproduces the image exactly', async (t) => {
  const img = randomImage(7, 5, 1);
  t.same(warpAffine(img, IDENTITY, 7, 5), img.data);
  // larger output: the extra area is black
  const big = warpAffine(img, IDENTITY, 9, 6);
  for (let y = 0; y < 6; y++)
    for (let x = 0; x < 9; x++)
      for (let c = 0; c < 3; c++) {
        if (big[(y * 9 + x) * 3 + c] !== px(img, x, y, c)) t.fail(`(${x},${y},${c})`);
      }
  t.pass('larger canvas is the image plus black');
});

t.test('integer translation shifts exactly with black fill', async (t) => {
  const img = randomImage(8, 6, 2);
  const out = warpAffine(img, [1, 0, 2, 0, 1, -1], 8, 6); // dst = src + (2, -1)
  let mismatches = 0;
  for (let v = 0; v < 6; v++)
    for (let u = 0; u < 8; u++)
      for (let c = 0; c < 3; c++) {
        if (out[(v * 8 + u) * 3 + c] !== px(img, u - 2, v + 1, c)) mismatches++;
      }
  t.equal(mismatches, 0);
  t.same([...out.subarray(0, 6)], [0, 0, 0, 0, 0, 0], 'left two columns are black');
  t.same([...out.subarray((5 * 8 + 2) * 3, (5 * 8 + 3) * 3)], [0, 0, 0], 'bottom row is black');
});

t.test('half-pixel translation averages neighbours (and blends with black at the edge)', async (t) => {
  const img: RgbImage = { data: new Uint8Array([10, 20, 30, 20, 40, 60, 100, 0, 200]), width: 3, height: 1 };
  const out = warpAffine(img, [1, 0, 0.5, 0, 1, 0], 4, 1); // output u samples source x = u - 0.5
  t.same([...out], [5, 10, 15, 15, 30, 45, 60, 20, 130, 50, 0, 100]);
  const vert: RgbImage = { data: new Uint8Array([0, 0, 0, 200, 100, 50]), width: 1, height: 2 };
  t.same([...warpAffine(vert, [1, 0, 0, 0, 1, -0.5], 1, 2)], [100, 50, 25, 100, 50, 25]);
  // quarter pixel in x and y: hand-computed bilinear weights 0.5625/0.1875/0.1875/0.0625
  const sq: RgbImage = { data: new Uint8Array([0, 0, 0, 160, 0, 0, 0, 0, 0, 0, 0, 0]), width: 2, height: 2 };
  const q = warpAffine(sq, [1, 0, -0.25, 0, 1, -0.25], 1, 1); // samples (0.25, 0.25)
  t.same([...q], [30, 0, 0], '160 * 0.1875 = 30');
});

t.test('matches a direct bilinear reference under a rotation', async (t) => {
  const img = randomImage(40, 30, 3);
  const m: Affine = [0.9 * Math.cos(0.4), -0.9 * Math.sin(0.4), 8.3, 0.9 * Math.sin(0.4), 0.9 * Math.cos(0.4), -3.1];
  const out = warpAffine(img, m, 37, 33);
  const det = m[0] * m[4] - m[1] * m[3];
  let worst = 0;
  for (let v = 0; v < 33; v++)
    for (let u = 0; u < 37; u++) {
      // invert by hand: solve m·(x, y) = (u, v)
      const du = u - m[2];
      const dv = v - m[5];
      const x = (m[4] * du - m[1] * dv) / det;
      const y = (-m[3] * du + m[0] * dv) / det;
      const x0 = Math.floor(x);
      const y0 = Math.floor(y);
      const fx = x - x0;
      const fy = y - y0;
      for (let c = 0; c < 3; c++) {
        const ref =
          px(img, x0, y0, c) * (1 - fx) * (1 - fy) +
          px(img, x0 + 1, y0, c) * fx * (1 - fy) +
          px(img, x0, y0 + 1, c) * (1 - fx) * fy +
          px(img, x0 + 1, y0 + 1, c) * fx * fy;
        worst = Math.max(worst, Math.abs(out[(v * 37 + u) * 3 + c] - ref));
      }
    }
  t.ok(worst <= 0.5 + 1e-9, `max deviation ${worst}`);
});

t.test('channel order is preserved: pure red stays red', async (t) => {
  const w = 200;
  const h = 160;
  const data = new Uint8Array(w * h * 3);
  for (let i = 0; i < w * h; i++) data[i * 3] = 255;
  const img = { data, width: w, height: h };
  const m = estimateSimilarity(
    [
      [85, 74],
      [103, 75],
      [94, 82],
      [87, 90],
      [101, 91],
    ],
    arcfaceTemplate(112, 112),
  );
  const out = warpAffine(img, m, 112, 112);
  let greenOrBlue = 0;
  let red = 0;
  for (let i = 0; i < 112 * 112; i++) {
    greenOrBlue += out[i * 3 + 1] + out[i * 3 + 2];
    if (out[i * 3] === 255) red++;
  }
  t.equal(greenOrBlue, 0);
  t.equal(red, 112 * 112, 'the crop lies inside the source, so every pixel is pure red');
  // the centre maps well inside the source
  const c = (56 * 112 + 56) * 3;
  t.same([...out.subarray(c, c + 3)], [255, 0, 0]);
});

t.test('source entirely outside gives black; non-invertible throws', async (t) => {
  const img = randomImage(10, 10, 4);
  t.same(warpAffine(img, [1, 0, 100, 0, 1, 0], 10, 10), new Uint8Array(300));
  t.same(warpAffine(img, [1, 0, -11, 0, 1, 0], 10, 10), new Uint8Array(300));
  t.throws(() => warpAffine(img, [0, 0, 0, 0, 0, 0], 4, 4), /not invertible/);
});

t.test('112x112 alignment warp of a large photo', async (t) => {
  // Its speed is measured by `npm run bench -- throughput` (the align stage), not here.
  const img = randomImage(1280, 960, 5);
  const lm: Point[] = [
    [600, 400],
    [700, 395],
    [655, 460],
    [610, 520],
    [690, 515],
  ];
  const m = estimateSimilarity(lm, arcfaceTemplate(112, 112));
  const p = applyAffine(m, lm[2]);
  t.ok(Math.abs(p[0] - 56) < 5 && Math.abs(p[1] - 72) < 5, 'the nose lands near the template nose');
  const crop = warpAffine(img, m, 112, 112);
  t.equal(crop.length, 112 * 112 * 3);
  t.ok(
    crop.some((v) => v !== 0),
    'the crop comes from inside the photo, not the black border',
  );
});
