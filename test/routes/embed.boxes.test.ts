/**
 * Hostile `boxes` on /v1/embed: degenerate or absurd landmarks and deeply nested JSON
 * get a 400 INVALID_BOXES, and many huge boxes are embedded like one box. Memory is measured in the
 * benchmark (`npm run bench -- embed-memory`), not here.
 */
import sharp from 'sharp';
import t from 'tap';
import { backendFor, cosine, readFace, TEST_ENGINE } from '../helpers/fixtures.js';
import { imagePart, testApp, postParts, type Part } from '../helpers/app.js';
import type { Asserts } from '../helpers/asserts.js';

const backend = await backendFor('scrfd_2.5g_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());
const app = await testApp(t, { backend });
const photo = readFace('identities/Angelina_Jolie/01.jpg');

const post = (url: string, parts: Part[]) => postParts(app, url, parts);

const withBoxes = (bytes: Uint8Array, boxes: string) => post('/v1/embed', [imagePart(bytes), { name: 'boxes', value: boxes }]);

function expectInvalidBoxes(t: Asserts, res: { statusCode: number; json(): unknown }, message: RegExp) {
  t.equal(res.statusCode, 400, 'status 400');
  const body = res.json() as Record<string, unknown>;
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], 'the error shape');
  t.equal(body.code, 'INVALID_BOXES');
  t.match(body.message, message);
}

t.test('degenerate landmarks are a 400 that says why', async (t) => {
  const zeros = JSON.stringify([
    {
      box: [10, 10, 120, 140],
      landmarks: [
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
        [0, 0],
      ],
    },
  ]);
  expectInvalidBoxes(t, await withBoxes(photo, zeros), /^box 0 landmarks must be spread over at least 1 pixel; received .*\[\[0,0\],\[0,0\]/);
  const same = JSON.stringify([{ box: [10, 10, 120, 140], landmarks: Array.from({ length: 5 }, () => [60.2, 70.1]) }]);
  expectInvalidBoxes(t, await withBoxes(photo, same), /^box 0 landmarks must be spread/);
  const huge = JSON.stringify([
    [10, 10, 120, 140],
    {
      box: [10, 10, 120, 140],
      landmarks: [
        [1e154, 1e154],
        [2e154, 1e154],
        [1.5e154, 2e154],
        [1e154, 3e154],
        [2e154, 3e154],
      ],
    },
  ]);
  expectInvalidBoxes(t, await withBoxes(photo, huge), /^box 1 landmarks must lie within the 1536x1152 image, give or take its own size; received \[\[1e\+154/);
  const negative = JSON.stringify([
    {
      box: [10, 10, 120, 140],
      landmarks: [
        [-1e154, 0],
        [0, 0],
        [0, 1],
        [1, 0],
        [1, 1],
      ],
    },
  ]);
  expectInvalidBoxes(t, await withBoxes(photo, negative), /^box 0 landmarks must lie within/);
  const fine = await withBoxes(
    photo,
    JSON.stringify([
      {
        box: [10, 10, 120, 140],
        landmarks: [
          [-100, -100],
          [300, -100],
          [100, 100],
          [-100, 300],
          [300, 300],
        ],
      },
    ]),
  );
  t.equal(fine.statusCode, 200, 'landmarks a little outside the image are still a face');
});

t.test('deeply nested boxes are a 400 with a short preview', async (t) => {
  const depth = 20_000;
  const arrays = await withBoxes(photo, '['.repeat(depth) + ']'.repeat(depth));
  expectInvalidBoxes(t, arrays, /^box 0 is invalid: expected \[x1, y1, x2, y2\] .*; received \[\[\[\[\.\.\.\]\]\]\]$/);
  const objects = await withBoxes(photo, `[${'{"box":'.repeat(depth)}1${'}'.repeat(depth)}]`);
  expectInvalidBoxes(t, objects, /^box 0 is invalid: expected /);
  const inLandmarks = await withBoxes(photo, `[{"box":[10,10,120,140],"landmarks":${'['.repeat(depth)}${']'.repeat(depth)}}]`);
  expectInvalidBoxes(t, inLandmarks, /^box 0 landmarks is invalid: expected five/);
  const notArray = await withBoxes(photo, `{"a":${'['.repeat(depth)}${']'.repeat(depth)}}`);
  expectInvalidBoxes(t, notArray, /^boxes is invalid: expected a JSON array of boxes; received \{"a":\[\[\[\.\.\.\]\]\]\}$/);
  for (const res of [arrays, objects, inLandmarks, notArray]) t.ok(res.body.length < 400, `a short message (${res.body.length} bytes)`);
  t.equal((await post('/v1/embed', [imagePart(photo)])).statusCode, 200, 'the server keeps serving');
});

t.test('many huge boxes on a 12 MP photo are embedded like one box', async (t) => {
  const big = await sharp(readFace('groups/t1.jpg')).rotate().resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
  const huge = [1, 1, 3999, 2999];
  const one = await withBoxes(big, JSON.stringify([huge]));
  t.equal(one.statusCode, 200);
  const reference = one.json().faces[0];
  const many = await withBoxes(big, JSON.stringify([...Array.from({ length: 64 }, () => huge), [-1e9, -1e9, 1e9, 1e9], [0, 0, 4000, 3000]]));
  t.equal(many.statusCode, 200, '66 boxes covering the whole photo');
  const faces = many.json().faces as { box: number[]; aligned: boolean; embedding: number[] }[];
  t.equal(faces.length, 66);
  for (const [i, face] of faces.slice(0, 64).entries()) {
    if (cosine(face.embedding, reference.embedding) < 0.9999 || face.aligned !== reference.aligned) {
      t.fail(`box ${i} differs from the same box sent alone`);
    }
  }
  t.pass('each of the 64 repeated boxes has the embedding of the box sent alone');
  t.same(faces[64].box, [0, 0, 4000, 3000], 'a box past every edge is clamped to the image');
  t.ok(cosine(faces[64].embedding, faces[65].embedding) >= 0.9999, 'and embedded like the whole image');
  const plain = await post('/v1/embed?align=false', [imagePart(big), { name: 'boxes', value: JSON.stringify(Array.from({ length: 64 }, () => huge)) }]);
  t.equal(plain.statusCode, 200);
  const plainFaces = plain.json().faces as { aligned: boolean; embedding: number[] }[];
  t.ok(
    plainFaces.every((f) => !f.aligned && cosine(f.embedding, plainFaces[0].embedding) >= 0.9999),
    '64 plain crops, all alike',
  );
});
