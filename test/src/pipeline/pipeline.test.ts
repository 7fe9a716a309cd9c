import sharp from 'sharp';
import t from 'tap';
import type { Landmarks } from '../../../src/types.js';
import { backendFor, cosine, readFace, TEST_ENGINE } from '../../helpers/fixtures.js';

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
