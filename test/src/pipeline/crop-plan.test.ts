import t from 'tap';
import { SourceImage } from '../../../src/image/source.js';
import { byLevel, LevelDecoder } from '../../../src/pipeline/crop-plan.js';
import { squareCrop } from '../../../src/pipeline/crops.js';
import { emptyTimings } from '../../../src/pipeline/timings.js';
import type { RgbImage } from '../../../src/types.js';

const gray = (width: number, height: number, value: number): RgbImage => ({ data: new Uint8Array(width * height * 3).fill(value), width, height });

t.test('byLevel decodes each level once, one at a time, and answers in the order asked', async (t) => {
  const source = await SourceImage.open(gray(400, 300, 90), { maxPixels: 1e8 });
  const decodes: number[] = [];
  const decode = source.decode.bind(source);
  source.decode = (level = 0) => {
    decodes.push(level);
    return decode(level);
  };
  const decoder = new LevelDecoder(source, emptyTimings());
  let running = 0;
  let most = 0;
  const levels = [2, 0, 2, 1, 0, 2, 2, 2, 2, 2, 2, 1];
  const sizes = await byLevel(levels, (k) => k, decoder, async (k, image, scale) => {
    running++;
    most = Math.max(most, running);
    await new Promise((r) => setTimeout(r, 5));
    running--;
    t.equal(image.width, 400 / 2 ** k, `item at level ${k} gets the level-${k} decode`);
    t.equal(scale.sx, image.width / 400);
    return image.width;
  });
  t.same(sizes, levels.map((k) => 400 / 2 ** k), 'results in the order of the items');
  t.same(decodes, [0, 1, 2], 'each level decoded once, finest first');
  t.ok(most <= 4, `at most 4 items at once (${most})`);
  const again = await byLevel([2, 1], (k) => k, decoder, async (_, image) => image.width);
  t.same(again, [100, 200]);
  t.same(decodes, [0, 1, 2, 1], 'the decode still held (level 2) serves first; only level 1 is decoded again');
});

t.test('squareCrop of a box far larger than the image: exact size, the image centred in black', async (t) => {
  const crop = await squareCrop(gray(300, 200, 200), [-10000, -10000, 10300, 10200], { width: 112, height: 112 });
  t.equal(crop.length, 112 * 112 * 3);
  const at = (x: number, y: number) => crop[(y * 112 + x) * 3];
  t.equal(at(0, 0), 0, 'black around');
  t.equal(at(56, 56), 200, 'the image in the middle');
});
