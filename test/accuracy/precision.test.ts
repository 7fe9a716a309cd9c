/**
 * fp16 against fp32 of scrfd_2.5g_mbf through the whole pipeline, determinism, and the shape and
 * norm of every embedding, through the real backend's faces().
 */
import t from 'tap';
import type { FaceBackend } from '../../src/index.js';
import { cosine, iou, matchByIou, norm, readFace } from '../helpers/fixtures.js';
import { backendForFile } from '../helpers/file-backend.js';

// One photo from each source (deepface, InspireFace, LFW) plus a group photo with six faces.
const PHOTOS = [
  'identities/Angelina_Jolie/03.jpg',
  'identities/deepface_person_img08/05.jpg',
  'identities/InspireFace_kun/01.png',
  'identities/Colin_Powell/01.jpg',
  'identities/Serena_Williams/02.jpg',
  'groups/t1.jpg',
];
const DIM = 128;

let fp32: FaceBackend;
let fp16: FaceBackend;

backendForFile('scrfd_2.5g_mbf', 'fp32', (b) => (fp32 = b));
backendForFile('scrfd_2.5g_mbf', 'fp16', (b) => (fp16 = b));

t.test('the two backends really load different files', async (t) => {
  const a = fp32.info();
  const b = fp16.info();
  t.equal(a.model.precision, 'fp32');
  t.equal(b.model.precision, 'fp16');
  t.match(a.files.recognition.path, /[/\\]fp32[/\\]recognition\.onnx$/);
  t.match(b.files.recognition.path, /[/\\]fp16[/\\]recognition\.onnx$/);
  t.not(a.files.detection.sha256, b.files.detection.sha256, 'fp16 detection file differs from fp32');
  t.not(a.files.recognition.sha256, b.files.recognition.sha256, 'fp16 recognition file differs from fp32');
  t.equal(a.model.dim, DIM);
  t.equal(b.model.dim, DIM);
});

type Faces = Awaited<ReturnType<FaceBackend['faces']>>;
const firstRun = new Map<string, { fp32: Faces; fp16: Faces }>();

t.test('fp16 and fp32 agree through faces()', async (t) => {
  let worst = 1;
  let worstBox = 0;
  for (const path of PHOTOS) {
    const bytes = readFace(path);
    const [a, b] = [await fp32.faces(bytes), await fp16.faces(bytes)];
    firstRun.set(path, { fp32: a, fp16: b });
    t.ok(a.faces.length >= 1, `${path}: fp32 finds a face`);
    t.equal(b.faces.length, a.faces.length, `${path}: same face count (fp32 ${a.faces.length}, fp16 ${b.faces.length})`);
    // Match by overlap rather than by rank: two faces of nearly equal size may swap places.
    const match = matchByIou(a.faces, b.faces);
    for (const [i, j] of match.entries()) {
      if (j < 0) {
        t.fail(`${path}: fp32 face ${i} ${JSON.stringify(a.faces[i].box.map(Math.round))} has no fp16 counterpart`);
        continue;
      }
      const overlap = iou(a.faces[i].box, b.faces[j].box);
      const c = cosine(a.faces[i].embedding, b.faces[j].embedding);
      worst = Math.min(worst, c);
      worstBox = Math.max(worstBox, ...a.faces[i].box.map((v, k) => Math.abs(v - b.faces[j].box[k])));
      t.ok(overlap > 0.95, `${path} face ${i}: boxes overlap, IoU ${overlap.toFixed(4)} > 0.95`);
      t.ok(c >= 0.999, `${path} face ${i}: fp16/fp32 embedding cosine ${c.toFixed(6)} >= 0.999`);
    }
    t.equal(new Set(match).size, match.length, `${path}: the matching is one-to-one`);
  }
  t.comment(`fp16 vs fp32: worst embedding cosine ${worst.toFixed(6)}, largest box coordinate difference ${worstBox.toFixed(2)} px`);
});

t.test('every embedding is 128-d with unit norm', async (t) => {
  t.equal(firstRun.size, PHOTOS.length, 'all photos ran');
  let count = 0;
  let worst = 0;
  for (const [path, runs] of firstRun) {
    for (const name of ['fp32', 'fp16'] as const) {
      for (const [i, f] of runs[name].faces.entries()) {
        count++;
        const n = norm(f.embedding);
        worst = Math.max(worst, Math.abs(n - 1));
        if (!(f.embedding instanceof Float32Array) || f.embedding.length !== DIM) {
          t.fail(`${name} ${path} face ${i}: expected a Float32Array of ${DIM}, got ${f.embedding?.constructor?.name} of ${f.embedding?.length}`);
        }
        if (!f.embedding.every(Number.isFinite)) t.fail(`${name} ${path} face ${i}: non-finite values`);
        if (!(Math.abs(n - 1) <= 1e-5)) t.fail(`${name} ${path} face ${i}: norm ${n.toFixed(7)} is not 1 +- 1e-5`);
      }
    }
  }
  t.ok(count >= 2 * (PHOTOS.length + 5), `${count} embeddings checked`);
  t.ok(worst <= 1e-5, `largest |norm - 1| ${worst.toExponential(2)} <= 1e-5`);
});

t.test('deterministic: the same image twice gives identical results', async (t) => {
  for (const [name, backend] of [
    ['fp32', fp32],
    ['fp16', fp16],
  ] as const) {
    for (const path of [PHOTOS[3], PHOTOS[5]]) {
      const first = firstRun.get(path)?.[name];
      if (!first) {
        t.fail(`${name} ${path}: no first run to compare with`);
        continue;
      }
      const second = await backend.faces(readFace(path));
      t.same(
        second.faces.map((f) => f.box),
        first.faces.map((f) => f.box),
        `${name} ${path}: same boxes`,
      );
      t.same(
        second.faces.map((f) => f.score),
        first.faces.map((f) => f.score),
        `${name} ${path}: same scores`,
      );
      const differing = first.faces.filter((f, i) => !second.faces[i] || f.embedding.some((v, k) => v !== second.faces[i].embedding[k]));
      t.equal(differing.length, 0, `${name} ${path}: all ${first.faces.length} vectors bit-identical`);
    }
    // embed() without boxes goes through another path (detector around the box, then align).
    const bytes = readFace(PHOTOS[4]);
    const [w1] = await backend.embed(bytes);
    const [w2] = await backend.embed(bytes);
    t.equal(w1.length, DIM, `${name} embed(): dim ${DIM}`);
    t.ok(Math.abs(norm(w1) - 1) <= 1e-5, `${name} embed(): norm ${norm(w1).toFixed(7)} is 1 +- 1e-5`);
    t.ok(
      w1.every((v, k) => v === w2[k]),
      `${name} embed(): identical vector the second time`,
    );
  }
});
