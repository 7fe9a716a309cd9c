/**
 * One face, one embedding: the same landmarks on the same photo give the same
 * embedding on every route, whatever the photo's size and whatever other faces it holds.
 */
import sharp from 'sharp';
import t from 'tap';
import { backendFor, cosine, readFace, TEST_ENGINE } from '../helpers/fixtures.js';
import { imagePart, multipart, testApp } from '../helpers/app.js';

const backend = await backendFor('scrfd_2.5g_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());
const app = await testApp(t, { backend });

interface Face {
  box: number[];
  landmarks: number[][];
  embedding: number[];
}

async function post(url: string, parts: Parameters<typeof multipart>[0]): Promise<{ faces: Face[] }> {
  const { payload, headers } = await multipart(parts);
  const res = await app.inject({ method: 'POST', url, payload, headers });
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return res.json();
}

/** t1.jpg upscaled to 12 MP: six faces of about 350 px, so crops come from a reduced decode. */
const twelveMp = await sharp(readFace('groups/t1.jpg')).rotate().resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer();
/** A portrait upscaled to 12 MP: one large face, cropped from a much reduced decode. */
const portrait = await sharp(readFace('identities/Angelina_Jolie/07.jpg')).rotate().resize(3000, 4000, { fit: 'fill' }).jpeg({ quality: 92 }).toBuffer();

const photos: [string, Buffer][] = [
  ['identities/Angelina_Jolie/01.jpg', readFace('identities/Angelina_Jolie/01.jpg')],
  ['identities/deepface_person_img08/02.jpg', readFace('identities/deepface_person_img08/02.jpg')],
  ['groups/t1.jpg', readFace('groups/t1.jpg')],
  ['groups/couple.jpg', readFace('groups/couple.jpg')],
  ['t1.jpg upscaled to 4000x3000', twelveMp],
  ['Angelina_Jolie/07.jpg upscaled to 3000x4000', portrait],
];

for (const [name, bytes] of photos) {
  t.test(`${name}: /v1/faces, /v1/embed without boxes and /v1/embed with the returned landmarks agree`, async (t) => {
    const { faces } = await post('/v1/faces', [imagePart(bytes)]);
    t.ok(faces.length >= 1, `${faces.length} faces`);
    const whole = (await post('/v1/embed', [imagePart(bytes)])).faces;
    t.equal(whole.length, 1);
    t.same(whole[0].landmarks, faces[0].landmarks, 'the whole image is aligned on the largest face, with its landmarks');
    const wholeCosine = cosine(whole[0].embedding, faces[0].embedding);
    t.ok(wholeCosine >= 0.9999, `/v1/embed without boxes against /v1/faces: cosine ${wholeCosine.toFixed(6)}`);

    const boxes = faces.map((f) => ({ box: f.box, landmarks: f.landmarks }));
    const sent = (await post('/v1/embed', [imagePart(bytes), { name: 'boxes', value: JSON.stringify(boxes) }])).faces;
    t.equal(sent.length, faces.length);
    for (const [i, f] of faces.entries()) {
      const c = cosine(sent[i].embedding, f.embedding);
      t.ok(c >= 0.9999, `face ${i} sent back with its landmarks: cosine ${c.toFixed(6)}`);
    }
    // Each face alone: the crop does not depend on the other faces of the photo.
    const alone = (await post('/v1/embed', [imagePart(bytes), { name: 'boxes', value: JSON.stringify([boxes[boxes.length - 1]]) }])).faces;
    const c = cosine(alone[0].embedding, faces[faces.length - 1].embedding);
    t.ok(c >= 0.9999, `the last face sent alone: cosine ${c.toFixed(6)}`);
  });
}
