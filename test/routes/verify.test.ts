/**
 * POST /v1/verify with real photos of the same and of different people from
 * shared/faces/labels.json, on the shared scrfd_2.5g_mbf fp32 pack.
 */
import t from 'tap';
import { backendFor, cosine, largest, loadLabels, readFace, TEST_ENGINE } from '../helpers/fixtures.js';
import { multipart, type Part, testApp } from '../helpers/app.js';

const backend = await backendFor('scrfd_2.5g_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());
const app = await testApp(t, { backend });
const labels = loadLabels();

const photo = (identity: string, index: number) => labels.identities[identity][index];
const file = (name: string, path: string): Part => ({ name, value: readFace(path), filename: path.split('/').pop(), type: 'image/jpeg' });

async function verify(parts: Part[]) {
  const { payload, headers } = await multipart(parts);
  return app.inject({ method: 'POST', url: '/v1/verify', payload, headers });
}

const SAME = [
  ['Angelina_Jolie', 0, 'Angelina_Jolie', 1],
  ['Colin_Powell', 0, 'Colin_Powell', 2],
  ['deepface_person_img08', 0, 'deepface_person_img08', 3],
  ['Serena_Williams', 1, 'Serena_Williams', 3],
] as const;
const DIFFERENT = [
  ['Angelina_Jolie', 0, 'Serena_Williams', 0],
  ['Colin_Powell', 0, 'Tony_Blair', 0],
  ['deepface_person_img03', 0, 'deepface_person_img08', 0],
  ['Vladimir_Putin', 0, 'Gerhard_Schroeder', 0],
] as const;

t.test('the same person is the same person, and different people are not', async (t) => {
  for (const [pairs, expected] of [
    [SAME, true],
    [DIFFERENT, false],
  ] as const) {
    for (const [a, i, b, j] of pairs) {
      const res = await verify([file('image1', photo(a, i)), file('image2', photo(b, j))]);
      t.equal(res.statusCode, 200);
      const body = res.json();
      const what = `${a}/${i} against ${b}/${j}: similarity ${body.similarity}`;
      t.equal(body.same_person, expected, what);
      t.equal(body.threshold, 0.397, 'the threshold measured for the pack');
      t.equal(body.same_person, body.similarity >= body.threshold, 'same_person is similarity >= threshold');
      t.same(body.model, { name: 'scrfd_2.5g_mbf', runtime: 'onnxrt', precision: 'fp32', dim: 128 });
      t.same(
        body.faces.map((f: { image: string }) => f.image),
        ['image1', 'image2'],
      );
    }
  }
});

t.test('the similarity is the cosine of the largest faces that /v1/faces?max_faces=1 embeds, and embeddings as JSON give the same answer', async (t) => {
  const [p1, p2] = ['groups/couple.jpg', photo('Angelina_Jolie', 2)];
  const res = await verify([file('image1', p1), file('image2', p2)]);
  const body = res.json();
  // max_faces=1 is how verify asks for the largest face (so a group photo embeds one face, not all).
  const f1 = largest((await backend.faces(readFace(p1), { max_faces: 1 })).faces)!;
  const f2 = largest((await backend.faces(readFace(p2), { max_faces: 1 })).faces)!;
  t.ok(Math.abs(body.similarity - cosine(f1.embedding, f2.embedding)) <= 0.00005, `${body.similarity} against ${cosine(f1.embedding, f2.embedding)}`);
  t.same(
    body.faces[0].box,
    f1.box.map((x) => Math.round(x * 100) / 100),
    'the largest face of the group photo, with 2 decimals like every route',
  );
  t.equal(body.faces[0].score, Math.round(f1.score * 10000) / 10000, 'the score with 4 decimals');
  t.same(
    body.faces[0].landmarks,
    f1.landmarks.map(([x, y]) => [Math.round(x * 100) / 100, Math.round(y * 100) / 100]),
  );
  t.match(res.headers['server-timing'], /decode;dur=[\d.]+, detect;dur=/, 'Server-Timing, like every image route');
  t.same(body.faces[1].quality, f2.quality, 'each face comes with its quality');

  const json = await app.inject({
    method: 'POST',
    url: '/v1/verify',
    payload: { embedding1: Array.from(f1.embedding), embedding2: Array.from(f2.embedding) },
  });
  t.equal(json.statusCode, 200);
  t.same({ ...json.json(), faces: undefined }, { ...body, faces: undefined }, 'same similarity, decision, threshold and model');
  t.same(json.json().faces, []);

  const scaled = await app.inject({
    method: 'POST',
    url: '/v1/verify',
    payload: { embedding1: Array.from(f1.embedding, (x) => x * 1e30), embedding2: Array.from(f2.embedding, (x) => x * 1e-30) },
  });
  t.equal(scaled.json().similarity, body.similarity, 'embeddings need not be unit length: the cosine is taken');
});

t.test('no face in an image is a 422 that names the image', async (t) => {
  const face = photo('Angelina_Jolie', 0);
  const none = labels.noface[0];
  for (const [parts, names] of [
    [[file('image1', face), file('image2', none)], ['"image2"']],
    [[file('image1', none), file('image2', face)], ['"image1"']],
    [
      [file('image1', none), file('image2', labels.noface[1])],
      ['"image1"', '"image2"'],
    ],
  ] as const) {
    const res = await verify([...parts]);
    t.equal(res.statusCode, 422);
    const body = res.json();
    t.equal(body.code, 'NO_FACE');
    for (const name of names) t.match(body.message, name);
    if (names.length === 1) t.notMatch(body.message, names[0] === '"image1"' ? '"image2"' : '"image1"', 'only the image without a face');
  }
});

t.test('bad uploads get a clear 400', async (t) => {
  const a = photo('Angelina_Jolie', 0);
  const cases: [string, Part[], string, RegExp][] = [
    ['image2 missing', [file('image1', a)], 'MISSING_IMAGE', /"image2"/],
    ['both missing', [{ name: 'note', value: 'hi' }], 'UNEXPECTED_FIELD', /"note"/],
    [
      'an image as a text field',
      [file('image1', a), { name: 'image2', value: 'not a file' }],
      'MISSING_IMAGE',
      /^"image2" was sent as a text field; it must be a file part/,
    ],
    ['image1 twice', [file('image1', a), file('image1', a)], 'TOO_MANY_FILES', /"image1" was sent twice/],
    ['a third file', [file('image1', a), file('image2', a), file('image3', a)], 'TOO_MANY_FILES', /^send one file part each of "image1", "image2"$/],
    ['another file name', [file('image1', a), file('image', a)], 'UNEXPECTED_FILE', /"image"; send the photos as "image1", "image2"/],
    ['an empty image', [file('image1', a), { name: 'image2', value: new Uint8Array(0), filename: 'e.jpg' }], 'EMPTY_IMAGE', /"image2"/],
  ];
  for (const [what, parts, code, message] of cases) {
    const res = await verify(parts);
    t.equal(res.statusCode, 400, what);
    t.equal(res.json().code, code, what);
    t.match(res.json().message, message, what);
  }
  const notImage = await verify([file('image1', a), { name: 'image2', value: 'plain text', filename: 'x.txt', type: 'text/plain' }]);
  t.equal(notImage.statusCode, 415, 'bytes that are no image');
});

t.test('bad embeddings get a clear 400', async (t) => {
  const unit = Array.from({ length: 128 }, (_, i) => (i === 0 ? 1 : 0));
  const cases: [string, unknown, string, RegExp][] = [
    ['embedding2 missing', { embedding1: unit }, 'INVALID_PARAMETER', /"embedding2"/],
    ['not numbers', { embedding1: unit, embedding2: unit.map(String) }, 'INVALID_PARAMETER', /"embedding2\.0"/],
    ['another dimension', { embedding1: unit, embedding2: unit.slice(0, 64) }, 'INVALID_EMBEDDING', /embedding2 must have 128 numbers .* received 64/],
    ['all zeros', { embedding1: unit.map(() => 0), embedding2: unit }, 'INVALID_EMBEDDING', /embedding1 must not be all zeros/],
    ['too long', { embedding1: unit, embedding2: new Array(5000).fill(0.1) }, 'INVALID_PARAMETER', /"embedding2"/],
    ['an unknown key', { embedding1: unit, embedding2: unit, threshold: 0.1 }, 'INVALID_PARAMETER', /threshold/],
    ['not an object', [unit, unit], 'INVALID_PARAMETER', /body/],
  ];
  for (const [what, payload, code, message] of cases) {
    const res = await app.inject({ method: 'POST', url: '/v1/verify', payload: payload as object });
    t.equal(res.statusCode, 400, what);
    t.equal(res.json().code, code, what);
    t.match(res.json().message, message, what);
  }
  const text = await app.inject({ method: 'POST', url: '/v1/verify', payload: 'hello', headers: { 'content-type': 'text/plain' } });
  t.equal(text.statusCode, 415, 'neither multipart nor JSON');
});

t.test('LUMEN_FACE_MATCH_THRESHOLD overrides the measured threshold', async (t) => {
  // One worker: this backend answers one request, so a second session pair would only cost load time.
  const strict = await backendFor('scrfd_2.5g_mbf', 'fp32', { ...TEST_ENGINE, LUMEN_FACE_WORKERS: '1', LUMEN_FACE_MATCH_THRESHOLD: '0.95' });
  t.teardown(() => strict.close());
  const strictApp = await testApp(t, { backend: strict });
  const [a, i, b, j] = SAME[0];
  const { payload, headers } = await multipart([file('image1', photo(a, i)), file('image2', photo(b, j))]);
  const body = (await strictApp.inject({ method: 'POST', url: '/v1/verify', payload, headers })).json();
  t.equal(body.threshold, 0.95);
  t.equal(body.same_person, false, `a similarity of ${body.similarity} is below 0.95`);
});

t.test('a pack without a measured threshold answers the similarity and no decision', async (t) => {
  const { matchThreshold } = await import('../../src/pipeline/verify.js');
  t.equal(matchThreshold('scrfd_10g_iresnet50', undefined), null);
  t.equal(matchThreshold('scrfd_10g_iresnet50', 0.3), 0.3);
  t.equal(matchThreshold('scrfd_500m_mbf', undefined), 0.427);
  t.equal(backend.verifyEmbeddings([1, 0, ...new Array(126).fill(0)], [1, 1, ...new Array(126).fill(0)]).same_person, true);
});
