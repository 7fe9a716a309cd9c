import t from 'tap';
import { backendFor, cosine, readFace } from '../helpers/fixtures.js';
import { imagePart, testApp, type Part, postParts } from '../helpers/app.js';
import { expectError, type Asserts } from '../helpers/asserts.js';

/** Exact numbers, strict knobs and form fields, 405 for a wrong method. */

const backend = await backendFor();
t.teardown(() => backend.close());
const app = await testApp(t, { backend });
const group = readFace('groups/t1.jpg');
const jolie = readFace('identities/Angelina_Jolie/01.jpg');

const post = (url: string, parts: Part[]) => postParts(app, url, parts);

const decimals = (x: number) => (String(x).split('.')[1] ?? '').length;

function expectRounded(t: Asserts, face: { box: number[]; score?: number; landmarks: number[][] | null }) {
  t.ok(
    face.box.every((x) => decimals(x) <= 2),
    `box ${JSON.stringify(face.box)} has at most 2 decimals`,
  );
  for (const point of face.landmarks ?? [])
    t.ok(
      point.every((x) => decimals(x) <= 2),
      `landmark ${JSON.stringify(point)} has at most 2 decimals`,
    );
  if (face.score !== undefined) t.ok(decimals(face.score) <= 4, `score ${face.score} has at most 4 decimals`);
}

t.test('coordinates have 2 decimals and scores 4 on every route; embeddings stay exact', async (t) => {
  const detect = (await post('/v1/detect', [imagePart(group)])).json();
  const faces = (await post('/v1/faces', [imagePart(group)])).json();
  t.equal(detect.faces.length, 6);
  for (const face of [...detect.faces, ...faces.faces]) expectRounded(t, face);
  t.ok(
    detect.faces.some((f: { box: number[] }) => f.box.some((x) => decimals(x) === 2)),
    'rounded, not truncated to integers',
  );

  const raw = await backend.faces(group);
  for (const [i, face] of raw.faces.entries()) {
    const sent = faces.faces[i];
    t.ok(
      face.box.every((x, k) => Math.abs(x - sent.box[k]) <= 0.005 + 1e-9),
      'box within half a hundredth',
    );
    t.ok(Math.abs(face.score - sent.score) <= 0.00005 + 1e-12, 'score within half of 1e-4');
    t.ok(
      sent.embedding.every((x: number, k: number) => Math.fround(x) === face.embedding[k]),
      'embedding values are the exact float32',
    );
  }

  const { landmarks } = detect.faces[0];
  const boxes = JSON.stringify([{ box: [100.123456, 50.987654, 400.5, 420.25], landmarks }, [10.555555, 10, 120, 140]]);
  const embedded = (await post('/v1/embed', [imagePart(group), { name: 'boxes', value: boxes }])).json();
  for (const face of embedded.faces) expectRounded(t, face);
  t.same(embedded.faces[0].box, [100.12, 50.99, 400.5, 420.25]);
  t.same(embedded.faces[1].box, [10.56, 10, 120, 140]);
  const whole = (await post('/v1/embed', [imagePart(group)])).json();
  expectRounded(t, whole.faces[0]);
});

t.test('/v1/detect reports its model', async (t) => {
  const body = (await post('/v1/detect', [imagePart(jolie)])).json();
  t.same(body.model, { name: 'scrfd_2.5g_mbf', runtime: 'onnxrt', precision: 'fp32', dim: 128 });
});

t.test('empty, blank, repeated and non-decimal knobs are refused with a message naming the knob', async (t) => {
  for (const url of ['/v1/detect', '/v1/faces']) {
    expectError(
      t,
      await post(`${url}?min_score=`, [imagePart(jolie)]),
      400,
      'INVALID_PARAMETER',
      /^query parameter "min_score" is invalid: expected a decimal number from 0 to 1; received ""$/,
    );
    expectError(t, await post(`${url}?min_score=%20`, [imagePart(jolie)]), 400, 'INVALID_PARAMETER', /"min_score" is invalid: .*; received " "$/);
    expectError(
      t,
      await post(`${url}?max_faces=2&max_faces=3`, [imagePart(jolie)]),
      400,
      'INVALID_PARAMETER',
      /^query parameter "max_faces" is given twice; give it once$/,
    );
    expectError(t, await post(`${url}?nms=0.3&nms=0.3&nms=0.3`, [imagePart(jolie)]), 400, 'INVALID_PARAMETER', /"nms" is given 3 times/);
    for (const text of ['0x10', '1e1', '2.0', '-1', '1_0']) {
      expectError(
        t,
        await post(`${url}?max_faces=${encodeURIComponent(text)}`, [imagePart(jolie)]),
        400,
        'INVALID_PARAMETER',
        new RegExp(`"max_faces" is invalid: expected an integer \\(decimal digits\\), at least 1; received "${text.replace('.', '\\.')}"`),
      );
    }
    for (const text of ['0x1', '1e-1', 'Infinity', 'NaN', '.']) {
      expectError(t, await post(`${url}?min_score=${text}`, [imagePart(jolie)]), 400, 'INVALID_PARAMETER', /"min_score" is invalid: expected a decimal number/);
    }
    expectError(
      t,
      await post(`${url}?nms=0`, [imagePart(jolie)]),
      400,
      'INVALID_PARAMETER',
      /"nms" is invalid: expected a decimal number, above 0 and at most 1; received "0"/,
    );
  }
  const ok = await post('/v1/detect?max_faces=%2B1&min_score=.6&nms=0.40', [imagePart(group)]);
  t.equal(ok.statusCode, 200, 'plain decimals, with a leading + or dot, are fine');
  t.equal(ok.json().faces.length, 1);
});

t.test('unknown query parameters get a 400 listing the accepted ones', async (t) => {
  expectError(
    t,
    await post('/v1/faces?min_scor=0.6', [imagePart(jolie)]),
    400,
    'INVALID_PARAMETER',
    /^unknown query parameter "min_scor"; this endpoint accepts "min_score", "max_faces", "min_size", "nms", "max_yaw", "min_sharpness", "embedding_format"$/,
  );
  expectError(
    t,
    await post('/v1/embed?min_score=0.6', [imagePart(jolie)]),
    400,
    'INVALID_PARAMETER',
    /unknown query parameter "min_score"; this endpoint accepts "align", "embedding_format"$/,
  );
  expectError(t, await post('/v1/detect/batch?foo=1', [imagePart(jolie)]), 400, 'INVALID_PARAMETER', /unknown query parameter "foo"/);
});

t.test('align takes the one boolean vocabulary, in any case', async (t) => {
  const boxes = { name: 'boxes', value: '[[587,154,971,700]]' };
  for (const word of ['1', 'true', 'YES', 'On']) {
    t.equal((await post(`/v1/embed?align=${word}`, [imagePart(jolie), boxes])).json().faces[0].aligned, true, word);
  }
  for (const word of ['0', 'False', 'no', 'OFF']) {
    t.equal((await post(`/v1/embed?align=${word}`, [imagePart(jolie), boxes])).json().faces[0].aligned, false, word);
  }
  expectError(
    t,
    await post('/v1/embed?align=maybe', [imagePart(jolie)]),
    400,
    'INVALID_PARAMETER',
    /^query parameter "align" is invalid: expected a boolean: 1\/true\/yes\/on or 0\/false\/no\/off \(any case\); received "maybe"$/,
  );
  expectError(t, await post('/v1/embed?align=', [imagePart(jolie)]), 400, 'INVALID_PARAMETER', /"align" is invalid: .*; received ""$/);
});

t.test('form fields: "file" is an alias, an image must be a file part, a field is given once', async (t) => {
  const viaFile = await post('/v1/faces', [{ name: 'file', value: jolie, filename: 'a.jpg', type: 'image/jpeg' }]);
  t.equal(viaFile.statusCode, 200);
  const viaImage = (await post('/v1/faces', [imagePart(jolie)])).json();
  t.ok(cosine(viaFile.json().faces[0].embedding, viaImage.faces[0].embedding) > 0.99999, 'the same photo either way');
  t.equal((await post('/v1/embed', [{ name: 'file', value: jolie, filename: 'a.jpg' }])).statusCode, 200);

  for (const name of ['image', 'file']) {
    expectError(
      t,
      await post('/v1/detect', [{ name, value: 'not a file' }]),
      400,
      'MISSING_IMAGE',
      new RegExp(`^"${name}" was sent as a text field; it must be a file part \\(curl -F ${name}=@photo\\.jpg\\)$`),
    );
  }
  expectError(
    t,
    await post('/v1/detect', [imagePart(jolie), { name: 'boxes', value: '[]' }]),
    400,
    'UNEXPECTED_FIELD',
    /^unexpected field "boxes"; this endpoint accepts "image", "file"$/,
  );
  expectError(
    t,
    await post('/v1/embed', [imagePart(jolie), { name: 'boxes', value: '[[0,0,10,10]]' }, { name: 'boxes', value: '[]' }]),
    400,
    'DUPLICATE_FIELD',
    /^field "boxes" is given twice; send it once$/,
  );
  expectError(
    t,
    await post('/v1/embed', [imagePart(jolie), { name: 'file', value: jolie, filename: 'b.jpg' }]),
    400,
    'TOO_MANY_FILES',
    /^send exactly one file part, named "image" \(or "file"\); for many photos use the \/batch routes$/,
  );
});

t.test('a wrong method on a known route is a 405 with Allow', async (t) => {
  for (const url of ['/v1/faces', '/v1/detect', '/v1/embed', '/v1/faces/batch', '/v1/detect/batch']) {
    for (const method of ['GET', 'PUT', 'DELETE', 'PATCH'] as const) {
      const res = await app.inject({ method, url });
      expectError(t, res, 405, 'METHOD_NOT_ALLOWED', new RegExp(`^${method} is not allowed on ${url.replace(/\//g, '\\/')}; use POST$`));
      t.equal(res.headers.allow, 'POST');
    }
  }
  const head = await app.inject({ method: 'HEAD', url: '/v1/faces' });
  t.equal(head.statusCode, 405);
  t.equal(head.headers.allow, 'POST');
  expectError(t, await app.inject({ method: 'GET', url: '/v1/nothing' }), 404, 'NOT_FOUND', /no route/);
  t.equal((await app.inject({ method: 'GET', url: '/v1/info' })).statusCode, 200, 'GET routes are untouched');
});

t.test('/v1/info writes every dynamic dimension as null', async (t) => {
  const info = (await app.inject('/v1/info')).json();
  t.equal(info.inputs.recognition.batch, null);
  const dims = [info.engine.detectionIO, info.engine.recognitionIO]
    .flatMap((io: { inputs: { shape: unknown[] }[]; outputs: { shape: unknown[] }[] }) => [...io.inputs, ...io.outputs])
    .flatMap((tensor) => tensor.shape);
  t.ok(dims.length > 10);
  t.ok(
    dims.every((d) => d === null || (typeof d === 'number' && d > 0)),
    `only positive numbers or null: ${JSON.stringify(dims)}`,
  );
  t.ok(dims.includes(null), 'the recognizer has a dynamic batch dimension');
});
