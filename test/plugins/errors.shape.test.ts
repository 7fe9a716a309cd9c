import t from 'tap';
import { backendFor, readFace } from '../helpers/fixtures.js';
import { imagePart, multipart, testApp, postParts, type Part } from '../helpers/app.js';
import { expectError } from '../helpers/asserts.js';

/** Every bad input gets a 4xx in the one error shape, and the server keeps serving. */

const backend = await backendFor();
t.teardown(() => backend.close());
const app = await testApp(t, { backend });
const photo = readFace('identities/Angelina_Jolie/01.jpg');

const post = (url: string, parts: Part[]) => postParts(app, url, parts);

t.test('boxes', async (t) => {
  expectError(
    t,
    await post('/v1/embed', [imagePart(photo), { name: 'boxes', value: '[[10,10,5,50]]' }]),
    400,
    'INVALID_BOXES',
    /^box 0 is invalid: expected x2 > x1 and y2 > y1; received \[10,10,5,50\]$/,
  );
  expectError(
    t,
    await post('/v1/embed', [imagePart(photo), { name: 'boxes', value: '[[0,0,100,100],[1,2,3]]' }]),
    400,
    'INVALID_BOXES',
    /^box 1 is invalid: expected \[x1, y1, x2, y2\] \(4 finite numbers\) or \{"box": \[x1, y1, x2, y2\]\}; received \[1,2,3\]$/,
  );
  expectError(
    t,
    await post('/v1/embed', [imagePart(photo), { name: 'boxes', value: '[[0,0,100,"x"]]' }]),
    400,
    'INVALID_BOXES',
    /^box 0 is invalid: expected \[x1, y1, x2, y2\].*; received \[0,0,100,"x"\]$/,
  );
  expectError(
    t,
    await post('/v1/embed', [imagePart(photo), { name: 'boxes', value: '[{"box":[0,0,10,10]},{"box":[5000,5000,6000,6000]}]' }]),
    400,
    'INVALID_BOXES',
    /^box 1 is invalid: expected a box overlapping the 1536x1152 image; received \[5000,5000,6000,6000\]$/,
  );
  expectError(
    t,
    await post('/v1/embed', [imagePart(photo), { name: 'boxes', value: '[{"box":[0,0,10,10],"landmarks":[[1,2]]}]' }]),
    400,
    'INVALID_BOXES',
    /^box 0 landmarks is invalid: expected five \[x, y\] points .*; received \[\[1,2\]\]$/,
  );
  expectError(
    t,
    await post('/v1/embed', [imagePart(photo), { name: 'boxes', value: '[[0,0,1e400,10]]' }]),
    400,
    'INVALID_BOXES',
    /^box 0 is invalid: expected .*4 finite numbers.*; received \[0,0,Infinity,10\]$/,
  );
  expectError(
    t,
    await post('/v1/embed', [imagePart(photo), { name: 'boxes', value: '[[0,0' }]),
    400,
    'INVALID_BOXES',
    /^boxes is invalid: expected JSON such as \[\[10,10,120,140\]\] \(.+\); received "\[\[0,0"$/,
  );
  expectError(
    t,
    await post('/v1/embed', [imagePart(photo), { name: 'boxes', value: '{"box":[0,0,1,1]}' }]),
    400,
    'INVALID_BOXES',
    /^boxes is invalid: expected a JSON array of boxes; received \{"box":\[0,0,1,1\]\}$/,
  );
  const many = JSON.stringify(Array.from({ length: 257 }, () => [0, 0, 10, 10]));
  expectError(t, await post('/v1/embed', [imagePart(photo), { name: 'boxes', value: many }]), 400, 'INVALID_BOXES', /257 boxes were sent; the limit is 256/);
});

t.test('multipart structure', async (t) => {
  expectError(t, await post('/v1/embed', [{ name: 'boxes', value: '[]' }]), 400, 'MISSING_IMAGE', /no "image" file part/);
  expectError(t, await post('/v1/faces', [imagePart(new Uint8Array(0))]), 400, 'EMPTY_IMAGE', /empty/);
  expectError(t, await post('/v1/detect', [{ name: 'photo', value: photo, filename: 'a.jpg' }]), 400, 'UNEXPECTED_FILE', /unexpected file part "photo"/);
  expectError(t, await post('/v1/detect', [imagePart(photo), { name: 'boxes', value: '[]' }]), 400, 'UNEXPECTED_FIELD', /unexpected field "boxes"/);
  expectError(t, await post('/v1/embed', [imagePart(photo), imagePart(photo)]), 400, 'TOO_MANY_FILES', /exactly one file/);
  const text = await app.inject({ method: 'POST', url: '/v1/faces', headers: { 'content-type': 'text/plain' }, payload: 'x' });
  expectError(t, text, 415, 'NOT_MULTIPART', /multipart\/form-data.*or application\/json/);
  expectError(t, await app.inject({ method: 'POST', url: '/v1/embed' }), 415, 'NOT_MULTIPART', /multipart/);
  const broken = await app.inject({
    method: 'POST',
    url: '/v1/embed',
    headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    payload: '--xyz\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nabc',
  });
  expectError(t, broken, 400, 'MALFORMED_MULTIPART', /could not be parsed/);
});

t.test('images', async (t) => {
  expectError(t, await post('/v1/faces', [imagePart(Buffer.from('just some text'), 'a.txt', 'text/plain')]), 415, 'UNSUPPORTED_IMAGE', /received plain text/);
  const heic = Buffer.concat([Buffer.from([0, 0, 0, 0x18]), Buffer.from('ftypheic'), Buffer.alloc(64)]);
  expectError(t, await post('/v1/embed', [imagePart(heic, 'a.heic', 'image/heic')]), 415, 'UNSUPPORTED_IMAGE', /HEIC/);
  expectError(t, await post('/v1/detect', [imagePart(photo.subarray(0, 300))]), 415, 'UNSUPPORTED_IMAGE', /JPEG/);
});

t.test('knobs name the bad parameter', async (t) => {
  for (const [query, name] of [
    ['min_score=2', 'min_score'],
    ['max_faces=-1', 'max_faces'],
    ['max_faces=lots', 'max_faces'],
    ['min_size=-3', 'min_size'],
    ['nms=0', 'nms'],
    ['min_score=abc', 'min_score'],
  ]) {
    for (const url of ['/v1/detect', '/v1/faces']) {
      expectError(t, await post(`${url}?${query}`, [imagePart(photo)]), 400, 'INVALID_PARAMETER', new RegExp(`"${name}" is invalid`));
    }
  }
  expectError(t, await post('/v1/embed?align=maybe', [imagePart(photo)]), 400, 'INVALID_PARAMETER', /"align" is invalid/);
});

t.test('unknown routes and the server keeps serving', async (t) => {
  expectError(t, await app.inject({ method: 'GET', url: '/v2/nothing' }), 404, 'NOT_FOUND', /no route GET \/v2\/nothing/);
  const ok = await post('/v1/detect', [imagePart(photo)]);
  t.equal(ok.statusCode, 200, 'a good request still works after all the bad ones');
  t.equal(ok.json().faces.length, 1);
});

t.test('upload and pixel limits', async (t) => {
  const small = await backendFor('scrfd_2.5g_mbf', 'fp32', { LUMEN_FACE_MAX_PIXELS: '1000000' });
  t.teardown(() => small.close());
  const limited = await testApp(t, { backend: small, env: { LUMEN_FACE_MAX_UPLOAD_BYTES: '100000' } });
  const big = await multipart([imagePart(photo)]);
  expectError(t, await limited.inject({ method: 'POST', url: '/v1/faces', ...big }), 413, 'UPLOAD_TOO_LARGE', /.+/);
  const pixels = await multipart([imagePart(readFace('identities/Colin_Powell/01.jpg'))]);
  t.equal((await limited.inject({ method: 'POST', url: '/v1/faces', ...pixels })).statusCode, 200, '150x150 is within both limits');
  const tooManyPixels = await multipart([
    imagePart(
      await (await import('sharp'))
        .default({ create: { width: 1200, height: 1000, channels: 3, background: '#888' } })
        .jpeg()
        .toBuffer(),
    ),
  ]);
  expectError(
    t,
    await limited.inject({ method: 'POST', url: '/v1/faces', ...tooManyPixels }),
    413,
    'IMAGE_TOO_LARGE',
    /1200x1000 = 1200000 pixels; the limit is 1000000/,
  );
});

t.test('past LUMEN_FACE_MAX_INFLIGHT image requests, 503 BUSY at once; the rest still succeed', async (t) => {
  const narrow = await testApp(t, { backend, env: { LUMEN_FACE_MAX_INFLIGHT: '1' } });
  const body = await multipart([imagePart(readFace('groups/t1.jpg'))]);
  const first = narrow.inject({ method: 'POST', url: '/v1/faces', ...body });
  await new Promise((r) => setImmediate(r));
  const second = await narrow.inject({ method: 'POST', url: '/v1/faces', ...body });
  expectError(t, second, 503, 'BUSY', /handling 1 images/);
  t.equal(second.headers['retry-after'], '1');
  t.equal((await narrow.inject('/healthz')).statusCode, 200, 'cheap routes are not limited');
  t.equal((await first).statusCode, 200);
  t.equal((await narrow.inject({ method: 'POST', url: '/v1/faces', ...body })).statusCode, 200, 'the slot is released');
  const bad = await multipart([imagePart(Buffer.from('not an image'))]);
  t.equal((await narrow.inject({ method: 'POST', url: '/v1/faces', ...bad })).statusCode, 415);
  t.equal((await narrow.inject({ method: 'POST', url: '/v1/faces', ...body })).statusCode, 200, 'a failed request releases its slot too');
});

t.test('our own bugs are a 500 with a generic message and no stack', async (t) => {
  const { buildApp } = await import('../../app.js');
  const { loadConfig } = await import('../../src/config.js');
  const { testEnv } = await import('../helpers/app.js');
  const buggy = await buildApp({ config: loadConfig(testEnv()), backend, logger: false });
  buggy.get('/boom', async () => {
    throw new Error('secret internal detail');
  });
  await buggy.ready();
  t.teardown(() => buggy.close());
  const res = await buggy.inject({ method: 'GET', url: '/boom', headers: { 'x-request-id': 'req-42' } });
  expectError(t, res, 500, 'INTERNAL_ERROR', /internal error; quote request id req-42/);
  t.notMatch(res.body, /secret internal detail|at .*\.js/);
});
