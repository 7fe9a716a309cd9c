import { join } from 'node:path';
import t from 'tap';
import { iou, loadLabels, readFace, requirePack } from '../helpers/fixtures.js';
import { ReferencePipeline } from '../helpers/reference-pipeline.js';

/**
 * Detection at the photo's own scale and shape (never enlarged, padded to multiples of 32) against
 * InsightFace's 640x640 square (small photos enlarged into it), on every shared photo.
 */
t.test('own-shape detection finds the faces of the square input, with the same boxes', async (t) => {
  const pack = requirePack('scrfd_2.5g_mbf', 'fp32');
  const square = await ReferencePipeline.open(join(pack, 'detection.onnx'), join(pack, 'recognition.onnx'), true);
  const own = await ReferencePipeline.open(join(pack, 'detection.onnx'), join(pack, 'recognition.onnx'), false);
  t.teardown(async () => {
    await square.close();
    await own.close();
  });
  const labels = loadLabels();
  const names = [...Object.values(labels.identities).flat(), ...Object.keys(labels.groups), ...labels.noface];
  let faces = 0;
  let found = 0;
  const overlaps: number[] = [];
  const missed: string[] = [];
  for (const name of names) {
    const [a, b] = [await square.faces(readFace(name)), await own.faces(readFace(name))];
    for (const f of a.faces) {
      faces++;
      const best = Math.max(0, ...b.faces.map((g) => iou(f.box, g.box)));
      if (best >= 0.5) {
        found++;
        overlaps.push(best);
      } else if (Math.min(f.box[2] - f.box[0], f.box[3] - f.box[1]) >= 20)
        missed.push(`${name}: [${f.box.map(Math.round).join(', ')}] score ${f.score.toFixed(2)}`);
    }
  }
  overlaps.sort((x, y) => x - y);
  const median = overlaps[overlaps.length >> 1];
  t.same(missed, [], 'every face of 20 px or more that the square input finds is found');
  t.ok(found / faces >= 0.99, `recall ${found} of ${faces}`);
  t.ok(median >= 0.95, `median box overlap ${median.toFixed(3)}`);
});
