import sharp from 'sharp';
import t from 'tap';
import { DecodeLadder, detectorInput, detectorShape, KEEP_FULL_DECODE_PIXELS } from '../../../src/image/ladder.js';
import { SourceImage } from '../../../src/image/source.js';
import { readFace } from '../../helpers/fixtures.js';

const limits = { maxPixels: 200_000_000 };

/** A JPEG of width x height with some detail (a gradient), cheap to make and decode. */
async function jpeg(width: number, height: number): Promise<Buffer> {
  const tile = await sharp(readFace('groups/t1.jpg')).resize(64, 48, { fit: 'fill' }).raw().toBuffer();
  return sharp(tile, { raw: { width: 64, height: 48, channels: 3 } })
    .resize(width, height, { fit: 'fill', kernel: 'nearest' })
    .jpeg({ quality: 80 })
    .toBuffer();
}

t.test('a photo up to the full-decode bound is decoded once, whole; the letterbox and every finer or coarser need come from those pixels', async (t) => {
  const bytes = readFace('groups/t1.jpg');
  const source = await SourceImage.open(bytes, limits);
  const ladder = new DecodeLadder(source);
  const input = await detectorInput(ladder, 640, true);
  await ladder.atResolution(0.1);
  await ladder.atResolution(1);
  t.same(ladder.decodes, [{ width: source.width, height: source.height }], 'one decode, at full size');
  const shape = detectorShape(source.width, source.height, 640, true);
  const resized = await sharp((await source.decode()).data, { raw: { width: source.width, height: source.height, channels: 3 } })
    .resize(shape.contentWidth, shape.contentHeight, { fit: 'fill' })
    .raw()
    .toBuffer();
  const row = shape.contentWidth * 3;
  let same = true;
  for (let y = 0; y < shape.contentHeight && same; y++) {
    same =
      Buffer.compare(
        resized.subarray(y * row, (y + 1) * row),
        Buffer.from(input.image.data.subarray(y * input.image.width * 3, y * input.image.width * 3 + row)),
      ) === 0;
  }
  t.ok(same, 'the letterbox is the full decode resized, pixel for pixel');
});

t.test('a photo over the bound streams: one decode per level at most, each finer than the last, coarser needs served by the pixels held', async (t) => {
  const [width, height] = [5000, 4000];
  t.ok(width * height > KEEP_FULL_DECODE_PIXELS, 'the photo is over the bound');
  const source = await SourceImage.open(await jpeg(width, height), limits);
  const ladder = new DecodeLadder(source);
  const input = await detectorInput(ladder, 640, true);
  t.same(ladder.decodes, [{ width: 640, height: 512 }], 'the letterbox is decoded at its own size, never in full');
  t.same([input.image.width, input.image.height], [640, 512]);
  // Two needs at once decode once.
  const [a, b] = await Promise.all([ladder.atResolution(0.2), ladder.atResolution(0.2)]);
  t.equal(a, b, 'needs asked together share one decode');
  t.same(ladder.decodes.length, 2);
  t.same(ladder.decodes[1], { width: 1000, height: 800 }, 'a finer need decodes at its own scale');
  const coarse = await ladder.atResolution(0.1);
  t.equal(coarse.image.width, 1000, 'a coarser need is served by the finer pixels held');
  await ladder.resized(320, 256);
  t.equal(ladder.decodes.length, 2, 'a coarser size is resized from the pixels held, not decoded');
  await ladder.atResolution(1);
  t.same(
    ladder.decodes.map((d) => d.width),
    [640, 1000, 5000],
    'finer each time, never twice at one level',
  );
  ladder.release();
  await ladder.atResolution(0.1);
  t.same(ladder.decodes.at(-1), { width: 500, height: 400 }, 'once released, the next need decodes again at its own scale');
});

t.test('raw RGB input is never decoded', async (t) => {
  const raw = { data: new Uint8Array(40 * 30 * 3).fill(7), width: 40, height: 30 };
  const ladder = new DecodeLadder(await SourceImage.open(raw, limits));
  const input = await detectorInput(ladder, 640, true);
  t.same([input.image.width, input.image.height], [64, 32], 'padded to multiples of 32, not enlarged');
  t.equal(input.scale, 1);
  t.same(ladder.decodes, []);
});

t.test('detector shapes: never enlarged, multiples of 32 on any-shape graphs, the square on fixed ones', async (t) => {
  t.same(detectorShape(150, 150, 640, true), { contentWidth: 150, contentHeight: 150, inputWidth: 160, inputHeight: 160, scale: 1 });
  t.same(detectorShape(150, 150, 640, false), { contentWidth: 150, contentHeight: 150, inputWidth: 640, inputHeight: 640, scale: 1 });
  t.same(detectorShape(4032, 3024, 640, true), { contentWidth: 640, contentHeight: 480, inputWidth: 640, inputHeight: 480, scale: 480 / 3024 });
  t.same(detectorShape(3024, 4032, 640, true), { contentWidth: 480, contentHeight: 640, inputWidth: 480, inputHeight: 640, scale: 640 / 4032 });
  t.same(detectorShape(2000, 10, 640, true).inputHeight, 32, 'at least one stride-32 cell');
});
