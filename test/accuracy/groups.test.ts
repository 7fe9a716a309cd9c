/**
 * Detection on real photos with scrfd_2.5g_mbf fp32, plus the ordering
 * and filtering contract of the detect knobs (largest face first, max_faces, min_size).
 */
import t from 'tap';
import type { FaceBackend } from '../../src/index.js';
import { boxArea, identityPhotos, loadLabels, mapLimit, readFace } from '../helpers/fixtures.js';
import { backendForFile } from '../helpers/file-backend.js';

const labels = loadLabels();
let backend: FaceBackend;

backendForFile('scrfd_2.5g_mbf', 'fp32', (b) => (backend = b));

type Faces = Awaited<ReturnType<FaceBackend['detect']>>;

/** Structural checks every detection result must pass. */
function checkWellFormed(t: { fail(message: string): unknown }, name: string, result: Faces) {
  const { width, height } = result.image;
  for (const [i, f] of result.faces.entries()) {
    const [x1, y1, x2, y2] = f.box;
    const inside = x1 >= 0 && y1 >= 0 && x2 <= width && y2 <= height && x2 > x1 && y2 > y1;
    if (!inside) t.fail(`${name} face ${i}: box ${JSON.stringify(f.box)} is not inside ${width}x${height}`);
    if (!(f.score >= 0.5 && f.score <= 1)) t.fail(`${name} face ${i}: score ${f.score} outside [0.5, 1] (default min_score 0.5)`);
    if (f.landmarks?.length !== 5) t.fail(`${name} face ${i}: expected 5 landmarks, got ${JSON.stringify(f.landmarks)}`);
  }
  for (let i = 1; i < result.faces.length; i++) {
    if (boxArea(result.faces[i].box) > boxArea(result.faces[i - 1].box)) {
      t.fail(`${name}: face ${i} is larger than face ${i - 1}; results must be largest first`);
    }
  }
}

t.test('group photos: face count within [faces_min, faces_max]', async (t) => {
  const groups = Object.entries(labels.groups);
  t.ok(groups.length >= 1, 'labels.json lists group photos');
  for (const [path, label] of groups) {
    const result = await backend.detect(readFace(path));
    checkWellFormed(t, path, result);
    const n = result.faces.length;
    t.ok(n >= label.faces_min && n <= label.faces_max, `${path}: ${n} faces, expected ${label.faces_min}..${label.faces_max}`, {
      found: n,
      faces_min: label.faces_min,
      faces_max: label.faces_max,
    });
  }
});

t.test('no-face photos give 0 faces', async (t) => {
  t.ok(labels.noface.length >= 1, 'labels.json lists no-face photos');
  for (const path of labels.noface) {
    const result = await backend.detect(readFace(path));
    t.equal(result.faces.length, 0, `${path}: 0 faces`, { scores: result.faces.map((f) => f.score) });
  }
});

t.test('every identity photo gives at least 1 face', async (t) => {
  const photos = identityPhotos(labels);
  t.ok(photos.length >= 10, `labels.json lists ${photos.length} identity photos`);
  const results = await mapLimit(photos, 2, ({ path }) => backend.detect(readFace(path)));
  const empty: string[] = [];
  for (const [i, { path }] of photos.entries()) {
    checkWellFormed(t, path, results[i]);
    if (results[i].faces.length < 1) empty.push(path);
  }
  t.same(empty, [], `all ${photos.length} identity photos have a face`);
});

t.test('ordering contract: largest first, max_faces, min_size', async (t) => {
  // t1.jpg has six similar-sized faces; voc_2008_002079 mixes large and tiny background faces.
  for (const path of ['groups/t1.jpg', 'groups/voc_2008_002079.jpg']) {
    const bytes = readFace(path);
    const all = await backend.detect(bytes);
    t.ok(all.faces.length >= 3, `${path}: at least 3 faces to order (found ${all.faces.length})`);
    const areas = all.faces.map((f) => boxArea(f.box));
    t.same(
      areas,
      [...areas].sort((a, b) => b - a),
      `${path}: sorted by box area, largest first`,
    );

    const two = await backend.detect(bytes, { max_faces: 2 });
    t.equal(two.faces.length, 2, `${path}: max_faces=2 keeps 2`);
    t.same(
      two.faces.map((f) => f.box),
      all.faces.slice(0, 2).map((f) => f.box),
      `${path}: max_faces=2 keeps the two largest`,
    );
    const smallestKept = Math.min(...two.faces.map((f) => boxArea(f.box)));
    const largestDropped = Math.max(...all.faces.slice(2).map((f) => boxArea(f.box)));
    t.ok(smallestKept >= largestDropped, `${path}: no dropped face is larger than a kept one`);

    // A min_size between the smallest and largest shorter side: some faces go, some stay.
    const sides = all.faces.map((f) => Math.min(f.box[2] - f.box[0], f.box[3] - f.box[1])).sort((a, b) => a - b);
    const minSize = (sides[0] + sides[sides.length - 1]) / 2;
    const big = await backend.detect(bytes, { min_size: minSize });
    const expected = all.faces.filter((f) => Math.min(f.box[2] - f.box[0], f.box[3] - f.box[1]) >= minSize);
    t.ok(
      big.faces.length > 0 && big.faces.length < all.faces.length,
      `${path}: min_size=${minSize.toFixed(1)} keeps ${big.faces.length} of ${all.faces.length}`,
    );
    t.same(
      big.faces.map((f) => f.box),
      expected.map((f) => f.box),
      `${path}: min_size drops exactly the faces whose shorter side is below it`,
    );
    for (const f of big.faces) {
      t.ok(
        Math.min(f.box[2] - f.box[0], f.box[3] - f.box[1]) >= minSize,
        `${path}: kept face ${JSON.stringify(f.box.map(Math.round))} is at least ${minSize.toFixed(1)} px`,
      );
    }

    // Both knobs together: the size filter applies before the count limit.
    const both = await backend.detect(bytes, { min_size: minSize, max_faces: 1 });
    t.same(
      both.faces.map((f) => f.box),
      expected.slice(0, 1).map((f) => f.box),
      `${path}: min_size + max_faces=1 keeps the largest big face`,
    );
  }
});
