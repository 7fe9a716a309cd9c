import t from 'tap';
import type { Box } from '../../../src/types.js';
import { boxArea, clampBox, iou } from '../../../src/face/geometry.js';
import { nms } from '../../../src/face/nms.js';

t.test('boxArea, iou', async (t) => {
  t.equal(boxArea([0, 0, 10, 5]), 50, 'no +1');
  t.equal(boxArea([5, 5, 5, 9]), 0);
  t.equal(boxArea([5, 5, 3, 9]), 0);
  t.equal(iou([0, 0, 10, 10], [0, 0, 10, 10]), 1);
  t.equal(iou([0, 0, 10, 10], [0, 0, 10, 5]), 0.5);
  t.equal(iou([0, 0, 10, 10], [5, 0, 15, 10]), 50 / 150);
  t.equal(iou([0, 0, 10, 10], [10, 0, 20, 10]), 0, 'touching edges');
  t.equal(iou([0, 0, 10, 10], [20, 20, 30, 30]), 0);
  t.equal(iou([0, 0, 0, 0], [0, 0, 0, 0]), 0);
});

t.test('clampBox', async (t) => {
  t.same(clampBox([-5, -1, 50, 60], 40, 30), [0, 0, 40, 30]);
  t.same(clampBox([1.5, 2.5, 3.5, 4.5], 40, 30), [1.5, 2.5, 3.5, 4.5]);
  t.equal(clampBox([-20, 0, -1, 10], 40, 30), null);
  t.equal(clampBox([41, 0, 50, 10], 40, 30), null);
  t.equal(clampBox([10, 0, 10, 10], 40, 30), null);
  t.equal(clampBox([0, 31, 10, 40], 40, 30), null);
});

t.test('nms: greedy by score, suppress only when IoU > threshold', async (t) => {
  const d = (box: Box, score: number, id: string) => ({ box, score, id });
  const dets = [
    d([0, 0, 10, 10], 0.6, 'a'),
    d([0, 0, 10, 5], 0.7, 'half'), // IoU with a = 0.5 exactly
    d([1, 0, 11, 10], 0.9, 'b'), // IoU with a = 90/110
    d([100, 100, 110, 110], 0.5, 'far'),
    d([2, 0, 12, 10], 0.8, 'c'), // IoU with b = 90/110 -> suppressed by b
  ];
  t.same(
    nms(dets, 0.5).map((x) => x.id),
    ['b', 'half', 'far'],
  );
  t.same(
    nms(dets, 0.82).map((x) => x.id),
    ['b', 'c', 'half', 'a', 'far'],
    'IoU 90/110 = 0.818 is not above 0.82',
  );
  t.same(
    nms([dets[0], dets[1]], 0.5).map((x) => x.id),
    ['half', 'a'],
    'IoU equal to the threshold is kept',
  );
  t.same(
    nms([dets[0], dets[1]], 0.49).map((x) => x.id),
    ['half'],
  );
  t.same(nms([], 0.4), []);
  t.equal(dets[0].id, 'a', 'input is not reordered');
});
