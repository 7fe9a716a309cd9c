import sharp from 'sharp';
import t from 'tap';
import { arcfaceTemplate } from '../../src/face/arcface.js';
import type { Detection } from '../../src/face/scrfd.js';
import { decodeScale } from '../../src/pipeline/decode-scale.js';
import type { Landmarks } from '../../src/types.js';
import { backendFor, cosine, readFace } from '../helpers/fixtures.js';

const size = { width: 112, height: 112 };
const face = (zoom: number): Detection => ({
  box: [0, 0, 112 * zoom, 112 * zoom],
  score: 0.9,
  landmarks: arcfaceTemplate(112, 112).map(([x, y]) => [x * zoom + 100, y * zoom + 50]) as Landmarks,
});

t.test('decodeScale keeps every face at twice the recognition resolution', async (t) => {
  const close = (found: number, wanted: number, message: string) => t.ok(Math.abs(found - wanted) < 1e-9, `${message}: ${found}`);
  close(decodeScale([face(8)], size), 0.25, 'a face 8x the template: decode at 1/4');
  close(decodeScale([face(8), face(4)], size), 0.5, 'the smallest face decides');
  t.equal(decodeScale([face(8), face(2)], size), 1, 'small faces need the full image');
  close(decodeScale([{ ...face(10), landmarks: null }], size), 0.2, 'box-only faces use the box size');
});

t.test('faces() on a 12 MP photo decoded smaller gives the embeddings of a full-size alignment', async (t) => {
  const backend = await backendFor();
  t.teardown(() => backend.close());
  const big = await sharp(readFace('groups/t1.jpg')).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 95 }).toBuffer();
  const { faces } = await backend.faces(big);
  t.equal(faces.length, 6);
  const full = await backend.embedDetailed(big, { boxes: faces.map((f) => ({ box: f.box, landmarks: f.landmarks as Landmarks })) });
  for (const [i, f] of faces.entries()) {
    t.ok(cosine(f.embedding, full.faces[i].embedding) > 0.99, `face ${i}: cosine ${cosine(f.embedding, full.faces[i].embedding).toFixed(4)}`);
  }
});
