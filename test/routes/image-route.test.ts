import { mkdtempSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import t from 'tap';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../src/config.js';
import { backendFor, readFace } from '../helpers/fixtures.js';
import { imagePart, postParts, testApp, testEnv, type Part } from '../helpers/app.js';
import { expectError } from '../helpers/asserts.js';

/**
 * Issues 17, 18 §4 and 19 §1 and §4: every image route reads, rounds and reports the same way, takes
 * a photo as multipart or as base64 JSON with identical answers, and writes embeddings as numbers or
 * as base64 float32.
 */

const backend = await backendFor();
t.teardown(() => backend.close());

const group = readFace('groups/t1.jpg');
const jolie = readFace('identities/Angelina_Jolie/01.jpg');
const jolie2 = readFace('identities/Angelina_Jolie/02.jpg');
const b64 = (bytes: Buffer) => bytes.toString('base64');
const file = (name: string, bytes: Buffer): Part => ({ name, value: bytes, filename: `${name}.jpg`, type: 'image/jpeg' });

/** An app on the shared backend whose log lines are collected. */
async function loggedApp(t: { teardown(fn: () => unknown): void }) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  const config = loadConfig(testEnv({ LUMEN_FACE_CACHE_DIR: mkdtempSync(join(tmpdir(), 'lumen-face-routes-')), LUMEN_FACE_LOG_LEVEL: 'info' }));
  const app = await buildApp({ config, backend, logger: { level: 'info', stream } });
  await app.ready();
  t.teardown(() => app.close());
  return { app, lines };
}

/** Each image route with a multipart body and its JSON twin, and how many images it holds. */
const ROUTES: Array<{ url: string; parts: Part[]; json: Record<string, unknown>; images: number }> = [
  { url: '/v1/detect', parts: [imagePart(group)], json: { image: b64(group) }, images: 1 },
  { url: '/v1/faces', parts: [imagePart(group)], json: { image: b64(group) }, images: 1 },
  {
    url: '/v1/embed',
    parts: [imagePart(jolie), { name: 'boxes', value: '[[587,154,971,700]]' }],
    json: { image: b64(jolie), boxes: [[587, 154, 971, 700]] },
    images: 1,
  },
  { url: '/v1/detect/batch', parts: [imagePart(group), imagePart(jolie)], json: { images: [b64(group), b64(jolie)] }, images: 2 },
  { url: '/v1/faces/batch', parts: [imagePart(group), imagePart(jolie)], json: { images: [b64(group), b64(jolie)] }, images: 2 },
  { url: '/v1/verify', parts: [file('image1', jolie), file('image2', jolie2)], json: { image1: b64(jolie), image2: b64(jolie2) }, images: 2 },
];

/** Every number in a body: the rounding rules hold for boxes, landmarks, scores and similarities. */
function decimalsOf(value: unknown, key = ''): Array<[string, number]> {
  if (typeof value === 'number') return [[key, value]];
  if (Array.isArray(value)) return value.flatMap((v) => decimalsOf(v, key));
  if (value && typeof value === 'object')
    return Object.entries(value).flatMap(([k, v]) => decimalsOf(v, ['box', 'landmarks', 'score', 'similarity'].includes(k) ? k : key));
  return [];
}
const places = (x: number) => (String(x).split('.')[1] ?? '').length;

t.test('every image route rounds and reports the same way: Server-Timing, log line, metrics', async (t) => {
  const { app, lines } = await loggedApp(t);
  for (const route of ROUTES) {
    const res = await postParts(app, route.url, route.parts);
    t.equal(res.statusCode, 200, route.url);
    t.match(res.headers['server-timing'], /^decode;dur=[\d.]+, detect;dur=[\d.]+/, `${route.url}: Server-Timing`);
    for (const [key, x] of decimalsOf(res.json())) {
      if (key === 'box' || key === 'landmarks') t.ok(places(x) <= 2, `${route.url}: ${key} ${x} has at most 2 decimals`);
      if (key === 'score' || key === 'similarity') t.ok(places(x) <= 4, `${route.url}: ${key} ${x} has at most 4 decimals`);
    }
    const line = lines.filter((l) => l.msg === 'request').at(-1)!;
    t.equal(line.route, route.url);
    t.type(line.faces, 'number', `${route.url}: faces in the log line`);
    t.ok(Object.keys(line.stagesMs as object).includes('detect'), `${route.url}: stage times in the log line`);
    if (route.images > 1) t.equal(line.images, route.images);
  }
  const metrics = (await app.inject('/metrics')).body;
  for (const route of ROUTES) {
    const count = new RegExp(`^lumen_face_faces_per_image_count\\{route="${route.url.replace(/\//g, '\\/')}",protocol="http"\\} (\\d+)$`, 'm').exec(metrics);
    t.equal(Number(count?.[1]), route.images, `${route.url}: faces_per_image observed once per image`);
    t.match(
      metrics,
      new RegExp(`lumen_face_stage_duration_seconds_count\\{route="${route.url}",stage="decode",protocol="http"\\} ${route.images}`),
      `${route.url}: stage times observed`,
    );
  }

  const bad = await postParts(app, '/v1/faces/batch', [{ name: 'image', value: 'text' }]);
  t.equal(bad.statusCode, 400);
  t.equal(lines.filter((l) => l.msg === 'request').at(-1)!.code, 'MISSING_IMAGE', 'a 4xx log line names its error code');
});

t.test('JSON with base64 photos gives the very answers multipart gives, on every image route', async (t) => {
  const app = await testApp(t, { backend });
  for (const route of ROUTES) {
    const viaParts = await postParts(app, route.url, route.parts);
    const viaJson = await app.inject({ method: 'POST', url: route.url, payload: route.json });
    t.equal(viaJson.statusCode, 200, route.url);
    t.same(viaJson.json(), viaParts.json(), `${route.url}: the same answer`);
  }
  const dataUrl = await app.inject({ method: 'POST', url: '/v1/detect', payload: { image: `data:image/jpeg;base64,${b64(group)}` } });
  t.same(dataUrl.json(), (await postParts(app, '/v1/detect', [imagePart(group)])).json(), 'a data-URL prefix is accepted');

  const knobs = await app.inject({ method: 'POST', url: '/v1/detect', payload: { image: b64(group), max_faces: 2, min_score: '0.6' } });
  t.same(knobs.json(), (await postParts(app, '/v1/detect?max_faces=2&min_score=0.6', [imagePart(group)])).json(), 'the query knobs as JSON keys');
  expectError(
    t,
    await app.inject({ method: 'POST', url: '/v1/detect?max_faces=1', payload: { image: b64(group), max_faces: 2 } }),
    400,
    'INVALID_PARAMETER',
    /"max_faces" is given in both the query and the body/,
  );
  expectError(
    t,
    await app.inject({ method: 'POST', url: '/v1/detect', payload: { image: b64(group), max_faces: 0 } }),
    400,
    'INVALID_PARAMETER',
    /"max_faces" is invalid/,
  );
});

t.test('bad JSON bodies get a clear 4xx', async (t) => {
  const app = await testApp(t, { backend, env: { LUMEN_FACE_MAX_UPLOAD_BYTES: '100000' } });
  const good = b64(jolie.subarray(0, 3000));
  const broken = `${good.slice(0, 1234)}*${good.slice(1235)}`;
  expectError(
    t,
    await app.inject({ method: 'POST', url: '/v1/faces', payload: { image: broken } }),
    400,
    'INVALID_PARAMETER',
    /^body parameter "image" is not valid base64: "\*" at character 1234$/,
  );
  expectError(
    t,
    await app.inject({ method: 'POST', url: '/v1/faces', payload: { image: `data:image/jpeg;base64,${broken}` } }),
    400,
    'INVALID_PARAMETER',
    /"\*" at character 1257$/,
  );
  expectError(
    t,
    await app.inject({ method: 'POST', url: '/v1/detect/batch', payload: { images: [good, broken] } }),
    400,
    'INVALID_PARAMETER',
    /^body parameter "images\.1" is not valid base64/,
  );
  expectError(t, await app.inject({ method: 'POST', url: '/v1/faces', payload: { image: 'abcde' } }), 400, 'INVALID_PARAMETER', /ends mid-byte/);
  expectError(t, await app.inject({ method: 'POST', url: '/v1/faces', payload: { image: 12 } }), 400, 'INVALID_PARAMETER', /"image" must be a base64 string/);
  expectError(t, await app.inject({ method: 'POST', url: '/v1/faces', payload: {} }), 400, 'MISSING_IMAGE', /no "image"/);
  expectError(t, await app.inject({ method: 'POST', url: '/v1/faces', payload: { image: good, note: 1 } }), 400, 'UNEXPECTED_FIELD', /unexpected field "note"/);
  expectError(t, await app.inject({ method: 'POST', url: '/v1/faces', payload: { image: '' } }), 400, 'EMPTY_IMAGE', /"image"/);
  expectError(t, await app.inject({ method: 'POST', url: '/v1/verify', payload: { image1: good } }), 400, 'MISSING_IMAGE', /"image2"/);

  // The size bound holds on the decoded bytes, and the JSON limit follows from it.
  const justOver = Buffer.alloc(100_001, 1);
  expectError(t, await app.inject({ method: 'POST', url: '/v1/faces', payload: { image: b64(justOver) } }), 413, 'UPLOAD_TOO_LARGE', /100000 bytes/);
  expectError(
    t,
    await app.inject({ method: 'POST', url: '/v1/detect/batch', payload: { images: [b64(justOver.subarray(0, 60_000)), b64(justOver.subarray(0, 60_000))] } }),
    413,
    'UPLOAD_TOO_LARGE',
    /100000 bytes/,
  );
  const huge = await app.inject({
    method: 'POST',
    url: '/v1/faces',
    headers: { 'content-type': 'application/json' },
    payload: `{"image":"${'A'.repeat(1_300_000)}"}`,
  });
  expectError(t, huge, 413, 'UPLOAD_TOO_LARGE', /./);
});

t.test('a 200 MB JSON body is refused by its Content-Length, before it is sent', async (t) => {
  const app = await testApp(t, { backend });
  const address = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  const answer = await new Promise<string>((resolve, reject) => {
    const socket = connect(Number(address.port), address.hostname, () => {
      socket.write(`POST /v1/faces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${200 * 1024 * 1024}\r\n\r\n{"image":"`);
    });
    let text = '';
    socket.on('data', (chunk) => {
      text += chunk;
      if (text.includes('\r\n\r\n') && text.includes('}')) {
        socket.destroy();
        resolve(text);
      }
    });
    socket.on('error', reject);
  });
  t.match(answer, /^HTTP\/1\.1 413 /);
  t.match(answer, /"code":"UPLOAD_TOO_LARGE"/);
});

/** Float32 values from base64 of little-endian float32. */
function fromBase64(text: string): Float32Array {
  const bytes = Buffer.from(text, 'base64');
  const out = new Float32Array(bytes.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = bytes.readFloatLE(i * 4);
  return out;
}

t.test('embedding_format=base64 gives the very float32 values, bit for bit, on every route that embeds', async (t) => {
  const app = await testApp(t, { backend });
  type Embedding = number[] | string;
  type Faces = { faces: { embedding: Embedding }[] };
  const cases: Array<[string, Part[], (body: unknown) => Embedding[]]> = [
    ['/v1/faces', [imagePart(group)], (b) => (b as Faces).faces.map((f) => f.embedding)],
    ['/v1/embed', [imagePart(jolie), { name: 'boxes', value: '[[587,154,971,700]]' }], (b) => (b as Faces).faces.map((f) => f.embedding)],
    ['/v1/faces/batch', [imagePart(group), imagePart(jolie)], (b) => (b as { results: Faces[] }).results.flatMap((r) => r.faces.map((f) => f.embedding))],
  ];
  for (const [url, parts, embeddings] of cases) {
    const numbers = embeddings((await postParts(app, url, parts)).json()) as number[][];
    const packed = embeddings((await postParts(app, `${url}?embedding_format=base64`, parts)).json()) as string[];
    t.ok(numbers.length > 0 && numbers.length === packed.length, `${url}: ${numbers.length} embeddings`);
    for (let i = 0; i < numbers.length; i++) {
      t.type(packed[i], 'string');
      const decoded = fromBase64(packed[i]);
      t.equal(decoded.length, 128);
      t.same(Buffer.from(decoded.buffer), Buffer.from(Float32Array.from(numbers[i]).buffer), `${url}: embedding ${i} bit for bit`);
    }
    const explicit = embeddings((await postParts(app, `${url}?embedding_format=json`, parts)).json());
    t.same(explicit, numbers, `${url}: json is the default`);
  }
  expectError(
    t,
    await postParts(app, '/v1/faces?embedding_format=hex', [imagePart(group)]),
    400,
    'INVALID_PARAMETER',
    /"embedding_format" is invalid: .*one of json, base64/,
  );
  expectError(
    t,
    await postParts(app, '/v1/detect?embedding_format=base64', [imagePart(group)]),
    400,
    'INVALID_PARAMETER',
    /unknown query parameter "embedding_format"/,
  );
});

t.test('a photo by URL: off by default; when allowed, the very answer multipart and base64 give', async (t) => {
  const { createServer } = await import('node:http');
  const server = createServer((req, res) => res.end(req.url === '/group.jpg' ? group : 'not found'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => server.close());
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/group.jpg`;

  const off = await testApp(t, { backend });
  expectError(t, await off.inject({ method: 'POST', url: '/v1/faces', payload: { url } }), 403, 'URL_NOT_ALLOWED', /LUMEN_FACE_URL_FETCH_ALLOW/);

  const noLoopback = await testApp(t, { backend, env: { LUMEN_FACE_URL_FETCH_ALLOW: '127.0.0.1' } });
  expectError(t, await noLoopback.inject({ method: 'POST', url: '/v1/faces', payload: { url } }), 403, 'URL_NOT_ALLOWED', /127\.0\.0\.1 is a loopback/);

  const app = await testApp(t, { backend, env: { LUMEN_FACE_URL_FETCH_ALLOW: '127.0.0.1', LUMEN_FACE_URL_FETCH_ALLOW_PRIVATE: '127.0.0.1/32' } });
  for (const route of ['/v1/detect', '/v1/faces', '/v1/embed']) {
    const viaUrl = await app.inject({ method: 'POST', url: route, payload: { url } });
    t.equal(viaUrl.statusCode, 200, route);
    t.same(viaUrl.json(), (await app.inject({ method: 'POST', url: route, payload: { image: b64(group) } })).json(), `${route}: URL and base64 agree`);
    t.same(viaUrl.json(), (await postParts(app, route, [imagePart(group)])).json(), `${route}: URL and multipart agree`);
  }
  expectError(
    t,
    await app.inject({ method: 'POST', url: '/v1/faces', payload: { url, image: b64(group) } }),
    400,
    'TOO_MANY_FILES',
    /"image" or "url", not both/,
  );
  expectError(
    t,
    await app.inject({ method: 'POST', url: '/v1/faces', payload: { url: url.replace('group', 'missing') } }),
    415,
    'UNSUPPORTED_IMAGE',
    /plain text/,
  );
});

t.test('one mistake, one error, on every route: a photo sent as a text field', async (t) => {
  const app = await testApp(t, { backend });
  const cases: Array<[string, Part[], string]> = [
    ['/v1/detect', [{ name: 'image', value: 'photo.jpg' }], 'image'],
    ['/v1/faces', [{ name: 'file', value: 'photo.jpg' }], 'file'],
    ['/v1/embed', [{ name: 'image', value: 'photo.jpg' }], 'image'],
    ['/v1/detect/batch', [imagePart(jolie), { name: 'image', value: 'photo.jpg' }], 'image'],
    ['/v1/faces/batch', [{ name: 'image', value: 'photo.jpg' }], 'image'],
    ['/v1/verify', [file('image1', jolie), { name: 'image2', value: 'photo.jpg' }], 'image2'],
  ];
  for (const [url, parts, name] of cases) {
    expectError(
      t,
      await postParts(app, url, parts),
      400,
      'MISSING_IMAGE',
      new RegExp(`^"${name}" was sent as a text field; it must be a file part \\(curl -F ${name}=@photo\\.jpg\\)$`),
    );
  }
});
