import t from 'tap';
import type { Tensor } from '../../../src/types.js';
import { MAX_NMS_CANDIDATES, decodeScrfd, groupScrfdOutputs, type ScrfdDecodeOptions } from '../../../src/face/scrfd.js';

interface Layout {
  strides: number[];
  anchors: number;
  kps: boolean;
}
const THREE_KPS: Layout = { strides: [8, 16, 32], anchors: 2, kps: true };
const THREE: Layout = { strides: [8, 16, 32], anchors: 2, kps: false };
const FIVE_KPS: Layout = { strides: [8, 16, 32, 64, 128], anchors: 1, kps: true };
const FIVE: Layout = { strides: [8, 16, 32, 64, 128], anchors: 1, kps: false };

interface Synthetic {
  /** stride -> role -> tensor */
  levels: Map<number, { score: Tensor; box: Tensor; kps: Tensor | null }>;
  /** Outputs in InsightFace order: scores, boxes, kps. */
  outputs: Tensor[];
}

function build(layout: Layout, w: number, h: number, batch: boolean): Synthetic {
  const levels = new Map<number, { score: Tensor; box: Tensor; kps: Tensor | null }>();
  const mk = (rows: number, c: number): Tensor => ({
    data: new Float32Array(rows * c),
    dims: batch ? [1, rows, c] : [rows, c],
  });
  for (const s of layout.strides) {
    const rows = (w / s) * (h / s) * layout.anchors;
    levels.set(s, { score: mk(rows, 1), box: mk(rows, 4), kps: layout.kps ? mk(rows, 10) : null });
  }
  const all = [...levels.values()];
  const outputs = [...all.map((l) => l.score), ...all.map((l) => l.box), ...all.flatMap((l) => (l.kps ? [l.kps] : []))];
  return { levels, outputs };
}

/** Write one anchor: score, 4 distances, and optionally 10 keypoint offsets (all in stride units). */
function put(syn: Synthetic, stride: number, index: number, score: number, dist: number[], kps?: number[]) {
  const l = syn.levels.get(stride)!;
  l.score.data[index] = score;
  l.box.data.set(dist, index * 4);
  if (kps && l.kps) l.kps.data.set(kps, index * 10);
}

function shuffled<T>(xs: T[], seed: number): T[] {
  const out = xs.slice();
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

const opts = (o: Partial<ScrfdDecodeOptions> = {}): ScrfdDecodeOptions => ({
  inputWidth: 640,
  inputHeight: 640,
  scale: 0.5,
  imageWidth: 1280,
  imageHeight: 1280,
  minScore: 0.5,
  nmsIou: 0.4,
  ...o,
});

const KPS = [0.5, -0.25, 1, 0, 0, 1, -1.5, 2, 2.25, -0.75];

t.test('9 outputs (3 strides, 2 anchors, kps): exact box, landmarks and score', async (t) => {
  for (const batch of [false, true]) {
    const syn = build(THREE_KPS, 640, 640, batch);
    // stride 16, W_s = 40, cell (x=7, y=3), anchor a=1 -> i = (3*40 + 7)*2 + 1 = 255, centre (112, 48)
    put(syn, 16, 255, 0.875, [1.5, 2, 2.5, 3], KPS);
    // stride 32, W_s = 20, cell (x=10, y=12), anchor 0 -> i = (12*20 + 10)*2 = 500, centre (320, 384)
    put(syn, 32, 500, 0.75, [1, 1, 1, 1], KPS);
    for (const outputs of [syn.outputs, shuffled(syn.outputs, 7), shuffled(syn.outputs, 99)]) {
      const dets = decodeScrfd(outputs, opts());
      t.equal(dets.length, 2);
      // box = [cx - d0*s, cy - d1*s, cx + d2*s, cy + d3*s] / scale(0.5)
      t.same(dets[0].box, [(112 - 24) * 2, (48 - 32) * 2, (112 + 40) * 2, (48 + 48) * 2]);
      t.same(dets[0].box, [176, 32, 304, 192]);
      t.equal(dets[0].score, 0.875);
      t.same(dets[0].landmarks, [
        [(112 + 8) * 2, (48 - 4) * 2],
        [(112 + 16) * 2, (48 + 0) * 2],
        [(112 + 0) * 2, (48 + 16) * 2],
        [(112 - 24) * 2, (48 + 32) * 2],
        [(112 + 36) * 2, (48 - 12) * 2],
      ]);
      t.same(dets[1].box, [(320 - 32) * 2, (384 - 32) * 2, (320 + 32) * 2, (384 + 32) * 2]);
      t.equal(dets[1].score, 0.75);
      t.same(dets[1].landmarks, [
        [(320 + 16) * 2, (384 - 8) * 2],
        [(320 + 32) * 2, (384 + 0) * 2],
        [(320 + 0) * 2, (384 + 32) * 2],
        [(320 - 48) * 2, (384 + 64) * 2],
        [(320 + 72) * 2, (384 - 24) * 2],
      ]);
    }
  }
});

t.test('6 outputs (no kps), non-square input: x and y are not swapped, landmarks null', async (t) => {
  const syn = build(THREE, 640, 480, true);
  // stride 8, W_s = 80 (H_s = 60), cell (x=5, y=50), a=0 -> i = (50*80 + 5)*2 = 8010, centre (40, 400)
  put(syn, 8, 8010, 0.9, [1, 2, 3, 4]);
  const dets = decodeScrfd(shuffled(syn.outputs, 3), opts({ inputWidth: 640, inputHeight: 480, scale: 2 }));
  t.equal(dets.length, 1);
  t.same(dets[0].box, [(40 - 8) / 2, (400 - 16) / 2, (40 + 24) / 2, (400 + 32) / 2]);
  t.same(dets[0].box, [16, 192, 32, 216]);
  t.equal(dets[0].score, Math.fround(0.9));
  t.equal(dets[0].landmarks, null);
  t.same(
    groupScrfdOutputs(syn.outputs, 640, 480).map((l) => [l.stride, l.anchors, l.score.data.length, l.kps]),
    [
      [8, 2, 9600, null],
      [16, 2, 2400, null],
      [32, 2, 600, null],
    ],
  );
});

t.test('15 outputs (5 strides, 1 anchor, kps), with and without batch dim, shuffled', async (t) => {
  for (const batch of [false, true]) {
    const syn = build(FIVE_KPS, 640, 640, batch);
    // stride 128, W_s = 5, cell (x=3, y=2) -> i = 2*5 + 3 = 13, centre (384, 256)
    put(syn, 128, 13, 0.625, [0.5, 0.25, 0.75, 1], KPS);
    // stride 64, W_s = 10, cell (x=1, y=9) -> i = 91, centre (64, 576)
    put(syn, 64, 91, 0.9375, [0.25, 0.5, 0.5, 0.25], KPS);
    const dets = decodeScrfd(shuffled(syn.outputs, batch ? 5 : 11), opts({ scale: 1, imageWidth: 640, imageHeight: 640 }));
    t.equal(dets.length, 2);
    t.equal(dets[0].score, 0.9375);
    t.same(dets[0].box, [64 - 16, 576 - 32, 64 + 32, 576 + 16]);
    t.same(dets[0].landmarks, [
      [64 + 32, 576 - 16],
      [64 + 64, 576],
      [64, 576 + 64],
      [64 - 96, 576 + 128],
      [64 + 144, 576 - 48],
    ]);
    t.equal(dets[1].score, 0.625);
    t.same(dets[1].box, [384 - 64, 256 - 32, 384 + 96, 256 + 128]);
    t.same(dets[1].landmarks![0], [384 + 64, 256 - 32]);
    t.same(dets[1].landmarks![4], [384 + 288, 256 - 96]);
    const g = groupScrfdOutputs(syn.outputs, 640, 640);
    t.same(
      g.map((l) => [l.stride, l.anchors, l.score.data.length]),
      [
        [8, 1, 6400],
        [16, 1, 1600],
        [32, 1, 400],
        [64, 1, 100],
        [128, 1, 25],
      ],
    );
  }
});

t.test('10 outputs (5 strides, 1 anchor, no kps)', async (t) => {
  const syn = build(FIVE, 640, 640, false);
  // stride 8, W_s = 80, cell (x=79, y=0) -> i = 79, centre (632, 0)
  put(syn, 8, 79, 0.5, [1, -1, 2, 3]);
  const dets = decodeScrfd(shuffled(syn.outputs, 1), opts({ scale: 0.25, imageWidth: 2560, imageHeight: 2560 }));
  t.equal(dets.length, 1, 'score exactly at minScore is kept');
  // x2 = (632 + 16) * 4 = 2592 is clamped to the image width 2560
  t.same(dets[0].box, [(632 - 8) * 4, (0 + 8) * 4, 2560, (0 + 24) * 4]);
  t.equal(dets[0].landmarks, null);
});

t.test('declared 640 shapes but smaller runtime data: grouping uses the data length', async (t) => {
  const syn = build(THREE_KPS, 320, 320, false);
  const lied = syn.outputs.map((o) => ({ data: o.data, dims: [o.dims[0] * 4, o.dims[1]] }));
  t.same(
    groupScrfdOutputs(lied, 320, 320).map((l) => l.stride),
    [8, 16, 32],
  );
  // stride 32 at 320: W_s = 10, cell (x=9, y=9), a=1 -> i = (99)*2 + 1 = 199, centre (288, 288)
  put(syn, 32, 199, 0.75, [1, 1, 1, 1], KPS);
  const dets = decodeScrfd(lied, opts({ inputWidth: 320, inputHeight: 320, scale: 1, imageWidth: 300, imageHeight: 300 }));
  t.same(dets[0].box, [256, 256, 300, 300], 'clamped to the image');
  t.same(dets[0].landmarks![4], [288 + 72, 288 - 24], 'landmarks are not clamped');
});

t.test('scale that is not a power of two, clamping and empty boxes', async (t) => {
  const syn = build(THREE_KPS, 640, 640, true);
  const scale = 640 / 1000;
  // stride 8, W_s = 80, cell (x=1, y=1), a=0 -> i = 162, centre (8, 8); box leaves the image at top-left
  put(syn, 8, 162, 0.75, [3, 2, 1, 1], KPS);
  // stride 8, cell (x=79, y=79), a=1 -> i = (79*80 + 79)*2 + 1 = 12799, centre (632, 632)
  put(syn, 8, 12799, 0.8125, [0.5, 0.5, 2, 2], KPS);
  // stride 16: box entirely left of the image after clamping -> dropped. cell (0, 10), a=0 -> i = 800, centre (0, 160)
  put(syn, 16, 800, 0.99, [2, 1, -1, 1], KPS);
  const dets = decodeScrfd(syn.outputs, opts({ scale, imageWidth: 1000, imageHeight: 1000 }));
  t.equal(dets.length, 2);
  const [a, b] = dets;
  t.equal(a.score, 0.8125);
  t.same(a.box, [(632 - 4) / scale, (632 - 4) / scale, 1000, 1000]);
  t.ok(Math.abs(a.box[0] - 981.25) < 1e-9);
  t.ok(Math.abs(a.landmarks![0][0] - (632 + 4) / 0.64) < 1e-9);
  t.ok(a.landmarks![4][0] > 1000, 'landmark outside the image is kept');
  t.equal(b.score, 0.75);
  t.same(b.box, [0, 0, (8 + 8) / scale, (8 + 8) / scale]);
  t.ok(Math.abs(b.box[2] - 25) < 1e-9);
  t.ok(b.landmarks![3][0] < 0, 'negative landmark is kept');
});

t.test('minScore drops lower scores; zero-score set decodes to nothing', async (t) => {
  const syn = build(THREE_KPS, 640, 640, false);
  put(syn, 16, 255, 0.49, [1, 1, 1, 1], KPS);
  put(syn, 16, 300, 0.51, [1, 1, 1, 1], KPS);
  t.equal(decodeScrfd(syn.outputs, opts()).length, 1);
  t.equal(decodeScrfd(syn.outputs, opts()).at(0)?.score, Math.fround(0.51));
  t.equal(decodeScrfd(syn.outputs, opts({ minScore: 0.6 })).length, 0);
  t.equal(decodeScrfd(syn.outputs, opts({ minScore: 0.4 })).length, 2);
  t.same(decodeScrfd(build(THREE_KPS, 640, 640, true).outputs, opts()), []);
});

t.test('NMS: IoU > 0.4 duplicate removed, IoU < 0.4 kept', async (t) => {
  // All boxes 80x80 (d = 5 at stride 8), same row y=10; x shift dx gives IoU = (80-dx)/(80+dx).
  const at = (x: number, a = 0) => (10 * 80 + x) * 2 + a;
  {
    const syn = build(THREE_KPS, 640, 640, false);
    put(syn, 8, at(10), 0.8, [5, 5, 5, 5], KPS); // box [40,40,120,120]
    put(syn, 8, at(14), 0.9, [5, 5, 5, 5], KPS); // dx=32: IoU 48/112 = 0.43 -> the 0.8 one goes
    const dets = decodeScrfd(syn.outputs, opts({ scale: 1 }));
    t.equal(dets.length, 1);
    t.equal(dets[0].score, Math.fround(0.9));
    t.same(dets[0].box, [72, 40, 152, 120]);
  }
  {
    const syn = build(THREE_KPS, 640, 640, false);
    put(syn, 8, at(10), 0.8, [5, 5, 5, 5], KPS);
    put(syn, 8, at(15), 0.9, [5, 5, 5, 5], KPS); // dx=40: IoU 40/120 = 0.33 -> both kept
    const dets = decodeScrfd(syn.outputs, opts({ scale: 1 }));
    t.same(
      dets.map((d) => [d.score, d.box]),
      [
        [Math.fround(0.9), [80, 40, 160, 120]],
        [Math.fround(0.8), [40, 40, 120, 120]],
      ],
    );
  }
  {
    // the other anchor of the same cell: identical box, lower score -> removed
    const syn = build(THREE_KPS, 640, 640, false);
    put(syn, 8, at(10, 0), 0.7, [5, 5, 5, 5], KPS);
    put(syn, 8, at(10, 1), 0.6, [5, 5, 5, 5], KPS);
    t.equal(decodeScrfd(syn.outputs, opts({ scale: 1 })).length, 1);
    t.equal(decodeScrfd(syn.outputs, opts({ scale: 1, nmsIou: 1 })).length, 2);
  }
});

t.test('malformed output sets throw a clear error', async (t) => {
  const good = build(THREE_KPS, 640, 640, false).outputs;
  t.throws(() => groupScrfdOutputs(good.slice(0, 8), 640, 640), /match no known layout.*expected 6 or 9.*Got 8 outputs/);
  t.throws(() => decodeScrfd(good, opts({ inputWidth: 320, inputHeight: 320 })), /12800 rows, expected one of 3200 \(stride 8\)/);
  const wrongWidth = good.slice();
  wrongWidth[0] = { data: new Float32Array(12800 * 3), dims: [12800, 3] };
  t.throws(() => groupScrfdOutputs(wrongWidth, 640, 640), /last dimension 3.*\[12800,3\]/);
  const twoScores = good.slice();
  twoScores[1] = good[0];
  t.throws(() => groupScrfdOutputs(twoScores, 640, 640), /two score outputs for stride 8/);
  const kpsInSix = build(THREE, 640, 640, false).outputs.slice();
  kpsInSix[5] = good[8];
  t.throws(() => groupScrfdOutputs(kpsInSix, 640, 640), /keypoint output in a 6-output set/);
  const batch2 = good.slice();
  batch2[2] = { data: new Float32Array(1600), dims: [2, 800, 1] };
  t.throws(() => groupScrfdOutputs(batch2, 640, 640), /1600 rows/);
  t.throws(() => groupScrfdOutputs(build(FIVE_KPS, 640, 640, false).outputs.slice(0, 9), 640, 640), /no score output for stride 16|rows/);
  t.throws(() => groupScrfdOutputs([], 640, 640), /Got 0 outputs/);
});

t.test('16800 anchors with few above threshold: only those are decoded', async (t) => {
  // Its speed is measured by `npm run bench -- throughput` (the SCRFD decode stage), not here.
  const syn = build(THREE_KPS, 640, 640, true);
  for (const l of syn.levels.values()) l.score.data.fill(0.3);
  put(syn, 16, 255, 0.875, [1.5, 2, 2.5, 3], KPS);
  const found = decodeScrfd(syn.outputs, opts());
  t.equal(found.length, 1, 'the one anchor above min_score');
  t.equal(found[0].score, 0.875);
});

t.test('min_score 0 over every anchor: NMS sees only the best MAX_NMS_CANDIDATES, and the best face survives', async (t) => {
  const syn = build(THREE_KPS, 640, 640, false);
  for (const [stride, level] of syn.levels) {
    for (let i = 0; i < level.score.data.length; i++) put(syn, stride, i, 0.01 + (i % 97) / 1000, [0.5, 0.5, 0.5, 0.5]);
  }
  put(syn, 32, 421, 0.99, [3, 3, 3, 3]);
  const found = decodeScrfd(syn.outputs, opts({ minScore: 0, scale: 1, imageWidth: 640, imageHeight: 640 }));
  t.ok(found.length <= MAX_NMS_CANDIDATES, `${found.length} detections`);
  t.ok(found.length > 100, 'small non-overlapping boxes are kept');
  t.equal(found[0].score, Math.fround(0.99));
  const cell = Math.floor(421 / 2);
  t.same(found[0].box, [(cell % 20) * 32 - 96, Math.floor(cell / 20) * 32 - 96, (cell % 20) * 32 + 96, Math.floor(cell / 20) * 32 + 96]);
});
