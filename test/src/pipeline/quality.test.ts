import sharp from 'sharp';
import t from 'tap';
import { SHARPNESS_REGION } from '../../../src/face/quality.js';
import { laplacianVariance } from '../../../src/pipeline/quality.js';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296;
  };
}

/** The definition, in plain code: variance (n - 1) of the 4-neighbour Laplacian, edges replicated. */
function referenceVariance(gray: Uint8Array, width: number, height: number): number {
  const at = (x: number, y: number) => gray[Math.min(height - 1, Math.max(0, y)) * width + Math.min(width - 1, Math.max(0, x))];
  const values: number[] = [];
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) values.push(at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4 * at(x, y));
  }
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return values.reduce((s, v) => s + (v - mean) ** 2, 0) / (values.length - 1);
}

t.test('the Laplacian variance from sharp matches its definition on the inner face of the crop', async (t) => {
  const random = rng(7);
  const crop = new Uint8Array(112 * 112 * 3).map(() => Math.floor(random() * 256));
  const { left, top, width, height } = SHARPNESS_REGION;
  const gray = await sharp(crop, { raw: { width: 112, height: 112, channels: 3 } })
    .extract(SHARPNESS_REGION)
    .greyscale()
    .raw()
    .toBuffer();
  const expected = referenceVariance(gray, width, height);
  const measured = await laplacianVariance(crop, { width: 112, height: 112 });
  t.ok(Math.abs(measured / expected - 1) < 1e-6, `measured ${measured}, expected ${expected}`);

  // Pixels outside the region do not count.
  const outside = crop.slice();
  for (let i = 0; i < 112 * 3 * top; i++) outside[i] = 0;
  for (let y = 0; y < 112; y++) for (let x = 0; x < left; x++) outside.fill(255, (y * 112 + x) * 3, (y * 112 + x) * 3 + 3);
  t.equal(await laplacianVariance(outside, { width: 112, height: 112 }), measured);
});

t.test('a flat crop has zero sharpness, and a crop of another size is measured at the template size', async (t) => {
  t.equal(await laplacianVariance(new Uint8Array(112 * 112 * 3).fill(90), { width: 112, height: 112 }), 0);
  const stripes = new Uint8Array(224 * 224 * 3).map((_, i) => (Math.floor(i / 3 / 224 / 8) % 2 ? 200 : 40));
  const big = await laplacianVariance(stripes, { width: 224, height: 224 });
  const small = await laplacianVariance(
    await sharp(stripes, { raw: { width: 224, height: 224, channels: 3 } })
      .resize(112, 112, { fit: 'fill' })
      .raw()
      .toBuffer(),
    { width: 112, height: 112 },
  );
  t.equal(big, small);
});
