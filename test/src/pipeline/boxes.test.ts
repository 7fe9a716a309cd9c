import t from 'tap';
import { LumenError } from '../../../src/errors.js';
import { normaliseBoxes, parseBoxesJson } from '../../../src/pipeline/boxes.js';

function rejection(
  t: { ok(v: unknown, m: string): unknown; match(v: unknown, p: unknown): unknown; fail(m: string): unknown },
  run: () => unknown,
  message: RegExp,
) {
  try {
    run();
    t.fail(`expected INVALID_BOXES matching ${message}`);
  } catch (err) {
    t.ok(err instanceof LumenError, 'a LumenError');
    t.match(err, { status: 400, code: 'INVALID_BOXES', message });
  }
}

t.test('bare boxes and box objects are clamped to the image, in the order sent', async (t) => {
  const regions = normaliseBoxes([[-5, 10, 50, 60], { box: [20, 30, 400, 500] }], 200, 100, 8);
  t.same(regions, [{ box: [0, 10, 50, 60] }, { box: [20, 30, 200, 100] }]);
});

t.test('landmarks travel with their box, as a copy', async (t) => {
  const landmarks = [
    [40, 50],
    [90, 50],
    [65, 80],
    [45, 110],
    [85, 110],
  ];
  const [region] = normaliseBoxes([{ box: [10, 10, 120, 140], landmarks }], 200, 200, 8);
  t.same(region.landmarks, landmarks);
  t.not(region.landmarks, landmarks, 'not the caller array');
  t.same(normaliseBoxes([{ box: [10, 10, 120, 140], landmarks: null }], 200, 200, 8), [{ box: [10, 10, 120, 140] }]);
});

t.test('each bad box is named by its index', async (t) => {
  rejection(
    t,
    () =>
      normaliseBoxes(
        [
          [0, 0, 10, 10],
          [0, 0, 10],
        ],
        100,
        100,
        8,
      ),
    /^box 1 is invalid: expected \[x1, y1, x2, y2\] \(4 finite numbers\) or \{"box": \[x1, y1, x2, y2\]\}; received \[0,0,10\]$/,
  );
  rejection(t, () => normaliseBoxes([[0, 0, 10, Number.NaN]], 100, 100, 8), /^box 0 is invalid: expected \[x1, y1, x2, y2\]/);
  rejection(t, () => normaliseBoxes([{ box: '0,0,10,10' }], 100, 100, 8), /^box 0 is invalid: expected \[x1, y1, x2, y2\]/);
  rejection(t, () => normaliseBoxes([null], 100, 100, 8), /^box 0 is invalid: expected \[x1, y1, x2, y2\]/);
  rejection(t, () => normaliseBoxes([[10, 10, 5, 20]], 100, 100, 8), /^box 0 is invalid: expected x2 > x1 and y2 > y1; received \[10,10,5,20\]$/);
  rejection(
    t,
    () => normaliseBoxes([[150, 150, 160, 160]], 100, 100, 8),
    /^box 0 is invalid: expected a box overlapping the 100x100 image; received \[150,150,160,160\]$/,
  );
  rejection(t, () => normaliseBoxes([{ box: [0, 0, 10, 10], landmarks: [[1, 2]] }], 100, 100, 8), /^box 0 landmarks is invalid: expected five \[x, y\] points/);
});

t.test('the box count is bounded before any box is read', async (t) => {
  rejection(
    t,
    () =>
      normaliseBoxes(
        Array.from({ length: 9 }, () => 'not even a box'),
        100,
        100,
        8,
      ),
    /9 boxes were sent; the limit is 8/,
  );
});

t.test('the boxes field is a JSON array', async (t) => {
  t.same(parseBoxesJson('[[10,10,120,140]]'), [[10, 10, 120, 140]]);
  rejection(t, () => parseBoxesJson('[[10,10'), /^boxes is invalid: expected JSON such as \[\[10,10,120,140\]\] \(.*\); received "\[\[10,10"$/);
  rejection(t, () => parseBoxesJson('{"box":[1,2,3,4]}'), /^boxes is invalid: expected a JSON array of boxes; received \{"box":\[1,2,3,4\]\}$/);
});
