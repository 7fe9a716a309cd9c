/**
 * EXIF orientation: a photo stored rotated, with orientation 3, 6 or 8,
 * gives the same boxes as its upright copy (within 2 px, upright coordinates) and the same
 * embeddings (cosine >= 0.99).
 *
 * Every copy is encoded from the same upright pixels at the same JPEG settings. The sizes are cut to
 * multiples of 16 so the JPEG block grid of a rotated copy lines up with the upright one, and chroma
 * is not subsampled, so the encoding noise is as close to equal as JPEG allows.
 */
import sharp, { type Sharp } from 'sharp';
import t from 'tap';
import type { FaceBackend } from '../../src/index.js';
import { cosine, iou, matchByIou, readFace } from '../helpers/fixtures.js';
import { backendForFile } from '../helpers/file-backend.js';

const JPEG = { quality: 95, chromaSubsampling: '4:4:4' } as const;

/**
 * EXIF orientation -> the clockwise rotation a viewer applies to display the stored pixels.
 * The stored pixels are therefore the upright image rotated by the opposite angle.
 *   3: rotate 180 to display;  6: rotate 90 CW to display;  8: rotate 90 CCW (270 CW) to display.
 */
const ORIENTATIONS = [
  { orientation: 3, display: 180 },
  { orientation: 6, display: 90 },
  { orientation: 8, display: 270 },
] as const;

interface Raw {
  data: Buffer;
  width: number;
  height: number;
}

const rawOf = (raw: Raw) => sharp(raw.data, { raw: { width: raw.width, height: raw.height, channels: 3 } });

async function decode(input: Sharp): Promise<Raw> {
  const { data, info } = await input.removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

function meanAbsDiff(a: Raw, b: Raw): number {
  if (a.width !== b.width || a.height !== b.height) return Infinity;
  let sum = 0;
  for (let i = 0; i < a.data.length; i++) sum += Math.abs(a.data[i] - b.data[i]);
  return sum / a.data.length;
}

let backend: FaceBackend;
backendForFile('scrfd_2.5g_mbf', 'fp32', (b) => (backend = b));

// couple.jpg (2280x1588, two large faces) is halved to keep the test quick; its faces stay large
// enough (~360 px) for the shrink-then-warp alignment path. t1.jpg has six smaller faces.
for (const { path, minFaces, scale } of [
  { path: 'groups/couple.jpg', minFaces: 2, scale: 0.5 },
  { path: 'groups/t1.jpg', minFaces: 6, scale: 1 },
]) {
  t.test(path, async (t) => {
    const bytes = readFace(path);
    const full = await sharp(bytes).metadata();
    const source = await decode(
      sharp(bytes)
        .rotate()
        .resize({ width: Math.round(full.autoOrient.width * scale) }),
    );
    const width = source.width - (source.width % 16);
    const height = source.height - (source.height % 16);
    const upright = await decode(rawOf(source).extract({ left: 0, top: 0, width, height }));

    const uprightJpeg = await rawOf(upright).jpeg(JPEG).toBuffer();
    const uprightPixels = await decode(sharp(uprightJpeg));
    t.equal((await sharp(uprightJpeg).metadata()).orientation ?? 1, 1, 'upright copy has no rotation tag');

    const reference = await backend.faces(uprightJpeg);
    t.same(reference.image, { width, height }, `upright copy is ${width}x${height}`);
    t.ok(reference.faces.length >= minFaces, `upright copy: ${reference.faces.length} faces (>= ${minFaces})`);

    for (const { orientation, display } of ORIENTATIONS) {
      // Store the pixels rotated the opposite way to what the tag asks the viewer to do.
      const stored = await rawOf(upright)
        .rotate((360 - display) % 360)
        .withMetadata({ orientation })
        .jpeg(JPEG)
        .toBuffer();

      // Check the construction before trusting anything measured on it.
      const meta = await sharp(stored).metadata();
      const swapped = orientation !== 3;
      t.equal(meta.orientation, orientation, `orientation ${orientation}: tag written`);
      t.same(
        [meta.width, meta.height],
        swapped ? [height, width] : [width, height],
        `orientation ${orientation}: stored pixels are ${meta.width}x${meta.height}`,
      );
      t.same([meta.autoOrient.width, meta.autoOrient.height], [width, height], `orientation ${orientation}: displays as ${width}x${height}`);
      const shown = await decode(sharp(stored).rotate());
      const diff = meanAbsDiff(shown, uprightPixels);
      t.ok(diff < 2, `orientation ${orientation}: displayed pixels match the upright copy (mean |diff| ${diff.toFixed(3)} < 2)`);
      // Guard against a construction that is upright already: the stored pixels as they stand, or
      // turned the wrong way, must not match.
      const asStored = await decode(sharp(stored));
      const wrongTurn = swapped ? await decode(rawOf(asStored).rotate((360 - display) % 360)) : asStored;
      const wrong = meanAbsDiff(wrongTurn, uprightPixels);
      t.ok(
        wrong > 10,
        `orientation ${orientation}: stored pixels ${swapped ? 'turned the wrong way' : 'as they stand'} do not match (mean |diff| ${wrong.toFixed(1)} > 10)`,
      );

      const result = await backend.faces(stored);
      t.same(result.image, { width, height }, `orientation ${orientation}: reported size is upright`);
      t.equal(result.faces.length, reference.faces.length, `orientation ${orientation}: ${result.faces.length} faces, upright copy ${reference.faces.length}`);
      const match = matchByIou(reference.faces, result.faces);
      let maxBox = 0;
      let minCos = 1;
      for (const [i, j] of match.entries()) {
        const want = reference.faces[i];
        if (j < 0) {
          t.fail(`orientation ${orientation}: upright face ${i} ${JSON.stringify(want.box.map(Math.round))} not found`);
          continue;
        }
        const got = result.faces[j];
        const boxDiff = Math.max(...want.box.map((v, k) => Math.abs(v - got.box[k])));
        const c = cosine(want.embedding, got.embedding);
        maxBox = Math.max(maxBox, boxDiff);
        minCos = Math.min(minCos, c);
        t.ok(boxDiff <= 2, `orientation ${orientation} face ${i}: box within 2 px (max diff ${boxDiff.toFixed(2)}, IoU ${iou(want.box, got.box).toFixed(4)})`, {
          upright: want.box,
          rotated: got.box,
        });
        t.ok(c >= 0.99, `orientation ${orientation} face ${i}: embedding cosine ${c.toFixed(5)} >= 0.99`);
      }
      t.equal(new Set(match).size, match.length, `orientation ${orientation}: one-to-one match`);
      t.comment(`${path} orientation ${orientation}: largest box difference ${maxBox.toFixed(2)} px, lowest cosine ${minCos.toFixed(5)}`);
    }
  });
}
