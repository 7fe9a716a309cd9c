import { request as httpRequest } from 'node:http';
import t from 'tap';
import type { FaceBackend } from '../../src/backend.js';
import { backendFor, readFace } from '../helpers/fixtures.js';
import { imagePart, multipart, testApp, postParts } from '../helpers/app.js';
import { expectError } from '../helpers/asserts.js';

/** Many photos per request, in order, one bad photo failing only itself, within the in-flight bound. */

const backend = await backendFor();
t.teardown(() => backend.close());

/** The real backend, counting how many images it is working on at once. */
function counting(inner: FaceBackend) {
  const stats = { now: 0, peak: 0, calls: 0 };
  const wrap =
    <A extends unknown[], R>(fn: (...args: A) => Promise<R>) =>
    async (...args: A): Promise<R> => {
      stats.calls++;
      stats.peak = Math.max(stats.peak, ++stats.now);
      try {
        return await fn(...args);
      } finally {
        stats.now--;
      }
    };
  const wrapped: FaceBackend = { ...inner, faces: wrap(inner.faces), detect: wrap(inner.detect) };
  return { backend: wrapped, stats };
}

const group = readFace('groups/t1.jpg');
const couple = readFace('groups/couple.jpg');
const jolie = readFace('identities/Angelina_Jolie/01.jpg');
const coffee = readFace('noface/coffee.png');

const postTo = postParts;

t.test('one entry per image, in order; a bad photo fails only itself', async (t) => {
  const app = await testApp(t, { backend });
  const parts = [
    imagePart(group, 'group.jpg'),
    imagePart(jolie, 'jolie.jpg'),
    imagePart(coffee, 'coffee.png', 'image/png'),
    imagePart(Buffer.from('just some text'), 'notes.txt', 'text/plain'),
    imagePart(new Uint8Array(0), 'empty.jpg'),
    imagePart(jolie.subarray(0, 300), 'cut.jpg'),
    { name: 'file', value: couple, filename: 'couple.jpg', type: 'image/jpeg' },
  ];
  const res = await postTo(app, '/v1/faces/batch', parts);
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.same(body.model, { name: 'scrfd_2.5g_mbf', runtime: 'onnxrt', precision: 'fp32', dim: 128 });
  t.equal(body.results.length, 7);
  const singles = await Promise.all([group, jolie, coffee, couple].map(async (bytes) => (await postTo(app, '/v1/faces', [imagePart(bytes)])).json()));
  for (const [entry, single] of [
    [0, 0],
    [1, 1],
    [2, 2],
    [6, 3],
  ]) {
    t.same(body.results[entry], { image: singles[single].image, faces: singles[single].faces }, `entry ${entry} is what /v1/faces answers for that photo`);
  }
  t.equal(body.results[0].faces.length, 6);
  t.same(body.results[2].faces, [], 'no face is an empty list, not an error');
  t.same(body.results[3], { error: { statusCode: 415, code: 'UNSUPPORTED_IMAGE', message: body.results[3].error.message } });
  t.match(body.results[3].error.message, /received plain text/);
  t.same(body.results[4], { error: { statusCode: 400, code: 'EMPTY_IMAGE', message: 'the image part is empty' } });
  t.equal(body.results[5].error.statusCode, 415);
  t.match(body.results[5].error.message, /JPEG/);
});

t.test('/v1/detect/batch: the knobs apply to every image', async (t) => {
  const app = await testApp(t, { backend });
  const res = await postTo(app, '/v1/detect/batch?max_faces=2&min_score=0.6', [imagePart(group), imagePart(couple), imagePart(jolie)]);
  t.equal(res.statusCode, 200);
  const { model, results } = res.json();
  t.equal(model.name, 'scrfd_2.5g_mbf');
  t.same(
    results.map((r: { faces: unknown[] }) => r.faces.length),
    [2, 2, 1],
  );
  const single = (await postTo(app, '/v1/detect?max_faces=2&min_score=0.6', [imagePart(group)])).json();
  t.same(results[0], { image: single.image, faces: single.faces });
  for (const face of results[0].faces) t.notOk('embedding' in face);
  expectError(t, await postTo(app, '/v1/faces/batch?max_faces=0', [imagePart(group)]), 400, 'INVALID_PARAMETER', /"max_faces" is invalid/);
});

t.test('whole-request errors: no image, too many images, too many bytes, wrong parts', async (t) => {
  const limited = await testApp(t, { backend, env: { LUMEN_FACE_MAX_IMAGES: '2', LUMEN_FACE_MAX_UPLOAD_BYTES: String(Math.round(jolie.length * 1.5)) } });
  const one = await postTo(limited, '/v1/faces/batch', [imagePart(jolie)]);
  t.equal(one.statusCode, 200, 'one photo is within the byte limit');
  expectError(
    t,
    await postTo(limited, '/v1/faces/batch', [imagePart(jolie), imagePart(jolie)]),
    413,
    'UPLOAD_TOO_LARGE',
    /^the images are larger than \d+ bytes together \(LUMEN_FACE_MAX_UPLOAD_BYTES applies to the whole request\)$/,
  );
  const small = readFace('identities/Colin_Powell/01.jpg');
  t.equal((await postTo(limited, '/v1/detect/batch', [imagePart(small), imagePart(small)])).statusCode, 200, 'two small photos fit');
  expectError(
    t,
    await postTo(limited, '/v1/detect/batch', [imagePart(small), imagePart(small), imagePart(small)]),
    400,
    'TOO_MANY_FILES',
    /^send at most 2 images in one request \(LUMEN_FACE_MAX_IMAGES\), as file parts named "image" \(or "file"\)$/,
  );
  expectError(t, await postTo(limited, '/v1/detect/batch', []), 400, 'MISSING_IMAGE', /no "image" file part/);
  expectError(t, await postTo(limited, '/v1/detect/batch', [{ name: 'image', value: 'text' }]), 400, 'MISSING_IMAGE', /must be a file part/);
  expectError(
    t,
    await postTo(limited, '/v1/detect/batch', [imagePart(small), { name: 'photo', value: small, filename: 'a.jpg' }]),
    400,
    'UNEXPECTED_FILE',
    /"photo"/,
  );
  expectError(
    t,
    await postTo(limited, '/v1/detect/batch', [imagePart(small), { name: 'boxes', value: '[]' }]),
    400,
    'UNEXPECTED_FIELD',
    /accepts "image", "file"$/,
  );
  expectError(
    t,
    await limited.inject({ method: 'POST', url: '/v1/faces/batch', headers: { 'content-type': 'text/plain' }, payload: 'x' }),
    415,
    'NOT_MULTIPART',
    /multipart/,
  );
  t.equal((await postTo(limited, '/v1/detect/batch', [imagePart(small)])).statusCode, 200, 'the server keeps serving');
});

t.test('a batch never exceeds LUMEN_FACE_MAX_INFLIGHT, never deadlocks, and gives its slots back', async (t) => {
  const eight = Array.from({ length: 8 }, () => imagePart(group));
  // The bounds count images, whatever their size: a small one-face photo checks them at a fraction of the cost.
  const small = readFace('identities/Colin_Powell/01.jpg');
  const eightSmall = Array.from({ length: 8 }, () => imagePart(small));

  const wide = counting(backend);
  const roomy = await testApp(t, { backend: wide.backend, env: { LUMEN_FACE_MAX_INFLIGHT: '32' } });
  const alone = (await postTo(roomy, '/v1/faces', [imagePart(small)])).json();
  t.ok(alone.faces.length > 0, 'the small photo shows a face');
  wide.stats.peak = 0;
  const all = (await postTo(roomy, '/v1/faces/batch', eightSmall)).json();
  t.equal(all.results.length, 8);
  t.equal(wide.stats.peak, 4, 'with slots to spare, a batch runs 4 images at once (BATCH_CONCURRENCY)');

  const three = counting(backend);
  const narrow = await testApp(t, { backend: three.backend, env: { LUMEN_FACE_MAX_INFLIGHT: '3' } });
  const results = (await postTo(narrow, '/v1/faces/batch', eightSmall)).json().results;
  t.ok(
    results.every((r: unknown) => JSON.stringify(r) === JSON.stringify({ image: alone.image, faces: alone.faces })),
    'every image answered, as /v1/faces answers it',
  );
  t.equal(three.stats.peak, 3, 'at most LUMEN_FACE_MAX_INFLIGHT images at once');

  const single = counting(backend);
  const one = await testApp(t, { backend: single.backend, env: { LUMEN_FACE_MAX_INFLIGHT: '1' } });
  const batch = postTo(one, '/v1/faces/batch', eight.slice(0, 4));
  await new Promise((r) => setTimeout(r, 50));
  expectError(t, await postTo(one, '/v1/faces', [imagePart(jolie)]), 503, 'BUSY', /LUMEN_FACE_MAX_INFLIGHT/);
  const done = (await batch).json();
  t.equal(done.results.length, 4, 'with one slot, the batch still finishes, one image at a time');
  t.ok(done.results.every((r: { faces?: unknown[] }) => r.faces?.length === 6));
  t.equal(single.stats.peak, 1);
  t.equal((await postTo(one, '/v1/faces', [imagePart(jolie)])).statusCode, 200, 'the slots are given back');
  const bad = await postTo(one, '/v1/faces/batch', [imagePart(jolie), imagePart(jolie), { name: 'photo', value: jolie, filename: 'x.jpg' }]);
  t.equal(bad.statusCode, 400);
  t.equal((await postTo(one, '/v1/faces', [imagePart(jolie)])).statusCode, 200, 'a failed batch gives its slots back too');
});

t.test('a batch is processed once its body has arrived: while it arrives it holds no slot, and one over the limit is never processed', async (t) => {
  const watched = counting(backend);
  const app = await testApp(t, { backend: watched.backend, env: { LUMEN_FACE_MAX_INFLIGHT: '1', LUMEN_FACE_MAX_IMAGES: '2' } });
  const address = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  const { payload, headers } = await multipart([imagePart(jolie), imagePart(group)]);
  const split = payload.indexOf(Buffer.from('Content-Disposition'), payload.indexOf('Content-Disposition') + 1);

  let answered = false;
  const answer = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: address.hostname, port: address.port, path: '/v1/detect/batch', method: 'POST', headers }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    // The first image, then nothing until the single request below has been answered.
    req.write(payload.subarray(0, split), () => {
      void postTo(app, '/v1/detect', [imagePart(jolie)]).then((single) => {
        t.equal(single.statusCode, 200, 'the only slot is free while the batch body arrives');
        t.equal(watched.stats.calls, 1, 'nothing of the batch is processed before its body has arrived');
        t.notOk(answered);
        req.end(payload.subarray(split));
      }, reject);
    });
  }).finally(() => (answered = true));
  const { status, body } = await answer;
  t.equal(status, 200);
  t.equal(JSON.parse(body).results.length, 2);
  t.equal(watched.stats.calls, 3);

  const over = await postTo(app, '/v1/detect/batch', [imagePart(jolie), imagePart(jolie), imagePart(jolie)]);
  expectError(t, over, 400, 'TOO_MANY_FILES', /LUMEN_FACE_MAX_IMAGES/);
  t.equal(watched.stats.calls, 3, 'a batch over LUMEN_FACE_MAX_IMAGES is refused before any of its images is processed');

  await new Promise<void>((resolve) => {
    const req = httpRequest({ host: address.hostname, port: address.port, path: '/v1/detect/batch', method: 'POST', headers });
    req.on('error', () => resolve());
    req.write(payload.subarray(0, split + 100), () => {
      req.destroy();
      resolve();
    });
  });
  t.equal((await postTo(app, '/v1/detect', [imagePart(jolie)])).statusCode, 200, 'an abandoned batch holds no slot');
});
