import t from 'tap';
import { estimateSimilarity, warpAffine } from '../../../src/face/align.js';
import { arcfaceTemplate } from '../../../src/face/arcface.js';
import { alignedCrop, squareCrop } from '../../../src/pipeline/crops.js';
import type { Landmarks, RgbImage } from '../../../src/types.js';

/** A smooth gradient: R follows x, G follows y, B is constant, so any misplacement shows. */
function gradient(width: number, height: number): RgbImage {
  const data = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 3;
      data[i] = Math.round((255 * x) / (width - 1));
      data[i + 1] = Math.round((255 * y) / (height - 1));
      data[i + 2] = 200;
    }
  }
  return { data, width, height };
}

const at = (crop: Uint8Array, width: number, x: number, y: number) => Array.from(crop.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));

t.test('squareCrop: a square around the box, black outside the image, exact size', async (t) => {
  const image = gradient(400, 200);
  // Box 100 wide and 50 tall at the top-left corner: the 100x100 square reaches 25 px above the image.
  const crop = await squareCrop(image, [0, 0, 100, 50], { width: 100, height: 100 });
  t.equal(crop.length, 100 * 100 * 3, 'exactly the recognition input size');
  t.same(at(crop, 100, 50, 5), [0, 0, 0], 'above the image is black');
  t.same(at(crop, 100, 50, 24), [0, 0, 0]);
  const inside = at(crop, 100, 50, 60);
  t.ok(
    Math.abs(inside[0] - (255 * 50) / 399) <= 2 && Math.abs(inside[1] - (255 * 35) / 199) <= 2 && inside[2] === 200,
    `pixel (50,60) of the crop is image pixel (50,35): ${inside}`,
  );

  const small = await squareCrop(image, [150, 50, 250, 150], { width: 112, height: 112 });
  t.equal(small.length, 112 * 112 * 3);
  const centre = at(small, 112, 56, 56);
  t.ok(Math.abs(centre[0] - (255 * 200) / 399) <= 3 && Math.abs(centre[1] - (255 * 100) / 199) <= 3, `the centre stays the centre: ${centre}`);

  const wide = await squareCrop(gradient(1536, 1152), [0, 0, 1536, 1152], { width: 112, height: 112 });
  t.equal(wide.length, 112 * 112 * 3, 'a whole non-square image pads to a square of the right size');
  t.same(at(wide, 112, 56, 2), [0, 0, 0], 'padding above');
  t.not(at(wide, 112, 56, 56)[2], 0, 'image in the middle');
});

t.test('alignedCrop of a big face (pre-shrunk by sharp) matches the direct warp', async (t) => {
  const image = gradient(2000, 2000);
  const size = { width: 112, height: 112 };
  // The template scaled 8x and shifted: a face about 600 px wide.
  const landmarks = arcfaceTemplate(112, 112).map(([x, y]) => [x * 8 + 500, y * 8 + 300]) as Landmarks;
  const crop = await alignedCrop(image, landmarks, size);
  const direct = warpAffine(image, estimateSimilarity(landmarks, arcfaceTemplate(112, 112)), 112, 112);
  t.equal(crop.length, direct.length);
  let worst = 0;
  for (let i = 0; i < crop.length; i++) worst = Math.max(worst, Math.abs(crop[i] - direct[i]));
  t.ok(worst <= 3, `on a smooth image the two agree within 3 levels (worst ${worst})`);

  const near = arcfaceTemplate(112, 112).map(([x, y]) => [x + 10, y + 20]) as Landmarks;
  const same = await alignedCrop(image, near, size);
  t.same(at(same, 112, 0, 0), at(image.data, 2000, 10, 20), 'a face at template scale is a pure shift');
});

t.test('squareCrop of a box far larger than the image: exact size, the image centred in black', async (t) => {
  const gray: RgbImage = { data: new Uint8Array(300 * 200 * 3).fill(200), width: 300, height: 200 };
  const crop = await squareCrop(gray, [-10000, -10000, 10300, 10200], { width: 112, height: 112 });
  t.equal(crop.length, 112 * 112 * 3);
  const at = (x: number, y: number) => crop[(y * 112 + x) * 3];
  t.equal(at(0, 0), 0, 'black around');
  t.equal(at(56, 56), 200, 'the image in the middle');
});
