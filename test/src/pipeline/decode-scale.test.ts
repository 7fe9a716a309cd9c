import sharp from 'sharp';
import t from 'tap';
import { arcfaceTemplate } from '../../../src/face/arcface.js';
import { levelSize } from '../../../src/image/source.js';
import { alignScale, boxLevel, landmarksLevel, levelFor } from '../../../src/pipeline/decode-scale.js';
import type { Landmarks } from '../../../src/types.js';
import { backendFor, cosine, readFace, TEST_ENGINE } from '../../helpers/fixtures.js';

const size = { width: 112, height: 112 };
const face = (zoom: number): Landmarks => arcfaceTemplate(112, 112).map(([x, y]) => [x * zoom + 100, y * zoom + 50]) as Landmarks;

t.test('a face is cropped from the coarsest level that keeps 1.5x the recognition resolution', async (t) => {
  t.equal(levelFor(1), 0);
  t.equal(levelFor(0.75), 0, 'anything above 1/2 needs the full image');
  t.equal(levelFor(0.5), 1);
  t.equal(levelFor(0.3), 1);
  t.equal(levelFor(0.25), 2);
  t.equal(levelFor(0.01), 6, '1/64 >= 0.01 > 1/128');
  t.ok(Math.abs(alignScale(face(8), size) - 1 / 8) < 1e-9, 'a face 8x the template aligns at 1/8');
  t.equal(landmarksLevel(face(8), size), 2, 'a face 8x the template: 1.5/8 needs 1/4');
  t.equal(landmarksLevel(face(12), size), 3, 'a face 12x the template: 1.5/12 = 1/8');
  t.equal(landmarksLevel(face(2), size), 0, 'a face twice the template needs the full image');
  t.equal(boxLevel([0, 0, 1120, 800], size), 2, 'a 1120 px box: 1.5*112/1120 = 0.15 needs 1/4');
  t.equal(boxLevel([0, 0, 6000, 4000], size), 5);
  // The level depends on the face alone: moving it, or adding other faces, changes nothing.
  const moved = face(8).map(([x, y]) => [x + 1234, y + 567]) as Landmarks;
  t.equal(landmarksLevel(moved, size), landmarksLevel(face(8), size));
  t.same(levelSize(4000, 3000, 2), { width: 1000, height: 750 });
  t.same(levelSize(5, 3, 3), { width: 1, height: 1 }, 'never below one pixel');
});

t.test('faces() on a 12 MP photo gives the embeddings of embed() with the same landmarks', async (t) => {
  const backend = await backendFor('scrfd_2.5g_mbf', 'fp32', TEST_ENGINE);
  t.teardown(() => backend.close());
  const big = await sharp(readFace('groups/t1.jpg')).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 95 }).toBuffer();
  const { faces } = await backend.faces(big);
  t.equal(faces.length, 6);
  const sent = await backend.embedDetailed(big, { boxes: faces.map((f) => ({ box: f.box, landmarks: f.landmarks as Landmarks })) });
  for (const [i, f] of faces.entries()) {
    const c = cosine(f.embedding, sent.faces[i].embedding);
    t.ok(c >= 0.9999, `face ${i}: cosine ${c.toFixed(6)} >= 0.9999`);
  }
});
