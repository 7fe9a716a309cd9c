/**
 * Big photos: a 6000x4000 JPEG goes through faces(), the faces come back where the
 * scaled group photo put them, and memory stays bounded over repeated calls.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import sharp from 'sharp';
import t from 'tap';
import type { FaceBackend } from '../../src/index.js';
import type { Box } from '../../src/types.js';
import { iou, matchByIou, readFace } from '../helpers/fixtures.js';
import { backendForFile } from '../helpers/file-backend.js';

const WIDTH = 6000;
const HEIGHT = 4000;
const GROUP = 'groups/t1.jpg';
// t1.jpg (1280x886) scaled 4.2x and placed off the corner, so both scale and offset are checked.
const PLACED_WIDTH = 5376;
const LEFT = 312;
const TOP = 140;
const RUNS = 5;
const MB = 1024 * 1024;

/** A full collection, so RSS reflects what is still referenced rather than when V8 last collected. */
function collect(): void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  gc();
  gc();
}

let backend: FaceBackend;
backendForFile('scrfd_2.5g_mbf', 'fp32', (b) => (backend = b));

t.test('6000x4000 photo: faces at the scaled places, memory bounded', async (t) => {
  const group = readFace(GROUP);
  const small = await backend.faces(group);
  t.ok(small.faces.length >= 6, `${GROUP}: ${small.faces.length} faces at its own size`);

  const placed = await sharp(group).rotate().resize({ width: PLACED_WIDTH }).jpeg({ quality: 95 }).toBuffer();
  const placedMeta = await sharp(placed).metadata();
  const sx = placedMeta.width / small.image.width;
  const sy = placedMeta.height / small.image.height;
  const big = await sharp({ create: { width: WIDTH, height: HEIGHT, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite([{ input: placed, left: LEFT, top: TOP }])
    .jpeg({ quality: 90 })
    .toBuffer();
  const meta = await sharp(big).metadata();
  t.same([meta.width, meta.height], [WIDTH, HEIGHT], `built a ${WIDTH}x${HEIGHT} JPEG of ${(big.length / MB).toFixed(1)} MB`);

  const expected = small.faces.map((f) => ({
    box: [f.box[0] * sx + LEFT, f.box[1] * sy + TOP, f.box[2] * sx + LEFT, f.box[3] * sy + TOP] as Box,
  }));

  collect();
  const rssStart = process.memoryUsage().rss;
  const rss: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    const result = await backend.faces(big);
    const ms = performance.now() - started;
    if (run === 0) {
      t.same(result.image, { width: WIDTH, height: HEIGHT }, 'reported size');
      t.equal(result.faces.length, expected.length, `${result.faces.length} faces, as in ${GROUP} at its own size`);
      const match = matchByIou(expected, result.faces);
      for (const [i, j] of match.entries()) {
        const want = expected[i].box;
        if (j < 0) {
          t.fail(`expected face ${i} at ${JSON.stringify(want.map(Math.round))} not found`);
          continue;
        }
        const got = result.faces[j];
        // The detector sees both images at about the same resolution (0.5 and 0.45 network pixels per
        // t1 pixel), so boxes agree to a couple of network pixels: ~10 px here on ~450 px faces.
        const side = Math.min(want[2] - want[0], want[3] - want[1]);
        const off = Math.max(...want.map((v, k) => Math.abs(v - got.box[k])));
        t.ok(iou(want, got.box) >= 0.85, `face ${i}: IoU ${iou(want, got.box).toFixed(3)} >= 0.85 with the scaled box`, {
          expected: want.map(Math.round),
          found: got.box.map(Math.round),
        });
        t.ok(off <= 0.08 * side, `face ${i}: every edge within 8 % of the face size (${off.toFixed(1)} px of ${side.toFixed(0)} px)`);
        t.ok(got.embedding.length > 0 && Number.isFinite(got.embedding[0]), `face ${i}: embedded`);
      }
      t.equal(new Set(match).size, match.length, 'one-to-one match');
    }
    collect();
    rss.push(process.memoryUsage().rss);
    t.comment(
      `run ${run + 1}: ${ms.toFixed(0)} ms, decode ${result.timings.decode.toFixed(0)} / detect ${result.timings.detect.toFixed(0)} / align ${result.timings.align.toFixed(0)} / embed ${result.timings.embed.toFixed(0)} ms, rss ${(rss[run] / MB).toFixed(0)} MB`,
    );
  }

  // After the first run every buffer pool, the libvips operation cache (sharp's default caps it at
  // 50 MB) and the ONNX Runtime arenas exist. One 24 MP decode is 6000*4000*3 bytes = 69 MB, so a
  // pipeline that kept one decoded photo per call would grow ~276 MB over the next four runs. A bound
  // of 200 MB (under three decodes) leaves room for allocator slack and still catches that.
  const baseline = rss[0];
  const growth = Math.max(...rss.slice(1)) - baseline;
  t.comment(
    `rss before ${(rssStart / MB).toFixed(0)} MB, after run 1 ${(baseline / MB).toFixed(0)} MB, peak after runs 2-${RUNS} +${(growth / MB).toFixed(0)} MB`,
  );
  t.ok(growth < 200 * MB, `rss growth after the first run ${(growth / MB).toFixed(0)} MB < 200 MB`);
  // And the first run itself holds no more than a handful of decodes once it is done.
  t.ok(baseline - rssStart < 400 * MB, `first run added ${((baseline - rssStart) / MB).toFixed(0)} MB < 400 MB`);
});
