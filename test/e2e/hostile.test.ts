import net from 'node:net';
import t from 'tap';
import { ERROR_CODES } from '../../src/errors.js';
import { backendFor, readFace } from '../helpers/fixtures.js';
import { testApp } from '../helpers/app.js';
import type { Asserts } from '../helpers/asserts.js';

/**
 * Hostile clients over a real socket: what they send is written byte by byte, and every answer must be
 * a 4xx in the one error shape, with the slots freed and the server still serving.
 */

const backend = await backendFor('scrfd_2.5g_mbf', 'fp32', { LUMEN_FACE_MAX_FACES: '4' });
t.teardown(() => backend.close());
const app = await testApp(t, {
  backend,
  env: { LUMEN_FACE_REQUEST_TIMEOUT: '2', LUMEN_FACE_UPLOAD_TIMEOUT: '4' },
});
const port = Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
const base = `http://127.0.0.1:${port}`;
const photo = readFace('identities/Angelina_Jolie/01.jpg');

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Send raw bytes (optionally a chunk at a time with a pause between), and read until the server closes. */
function exchange(chunks: (string | Buffer)[], gapMs = 0): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    let received = Buffer.alloc(0);
    socket.on('data', (d) => (received = Buffer.concat([received, d])));
    socket.on('error', () => undefined);
    socket.on('close', () => {
      const text = received.toString('latin1');
      const [head, ...rest] = text.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine)?.[1]);
      if (!status) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status, headers, body: rest.join('\r\n\r\n') });
    });
    void (async () => {
      for (const chunk of chunks) {
        if (socket.destroyed) return;
        socket.write(chunk);
        if (gapMs) await new Promise((r) => setTimeout(r, gapMs));
      }
    })();
  });
}

function expectError(t: Asserts, answer: RawAnswer, status: number, code: string, message: RegExp) {
  t.equal(answer.status, status, `status ${status}`);
  const body = JSON.parse(answer.body) as Record<string, unknown>;
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], 'the error shape');
  t.equal(body.statusCode, status);
  t.equal(body.code, code);
  t.match(body.message, message);
}

const multipartHead = (url: string, length: number, extra = '') =>
  `POST ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: ${length}\r\n${extra}\r\n`;

function imageForm(bytes: Buffer = photo) {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'a.jpg');
  return form;
}

/** An image request, retried while it is 503: the freed slots come back within a few event-loop turns. */
async function servedWithin(seconds: number): Promise<number> {
  const until = performance.now() + seconds * 1000;
  for (;;) {
    const res = await fetch(`${base}/v1/detect`, { method: 'POST', body: imageForm() });
    await res.arrayBuffer();
    if (res.status !== 503 || performance.now() > until) return res.status;
    await new Promise((r) => setTimeout(r, 100));
  }
}

t.test('32 clients that send headers and no body hold no slot, and get 408', async (t) => {
  const stalled = Array.from({ length: 32 }, () => exchange([multipartHead('/v1/faces', 100_000)]));
  // A slot is taken once the body has arrived, so uploads that stall hold none.
  const served = await fetch(`${base}/v1/detect`, { method: 'POST', body: imageForm() });
  await served.arrayBuffer();
  t.equal(served.status, 200, 'while they stall, an image request is served');
  for (const answer of await Promise.all(stalled)) {
    expectError(t, answer, 408, 'REQUEST_TIMEOUT', /^the request sent nothing for 2 s \(LUMEN_FACE_REQUEST_TIMEOUT\)$/);
    t.equal(answer.headers.connection, 'close');
  }
  t.equal(await servedWithin(10), 200, 'and after');
});

t.test('a body that trickles past LUMEN_FACE_UPLOAD_TIMEOUT gets 408 and frees its slot', async (t) => {
  // One byte every 0.5 s never leaves the socket idle for LUMEN_FACE_REQUEST_TIMEOUT (2 s).
  const head = multipartHead('/v1/faces', 1000);
  const answer = await exchange([head, ...'--B\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\n'.split('')], 500);
  expectError(t, answer, 408, 'REQUEST_TIMEOUT', /the whole request within 4 s \(LUMEN_FACE_UPLOAD_TIMEOUT\)/);
  t.equal(await servedWithin(10), 200);
});

t.test('a part without Content-Disposition is a 400, whatever its size', async (t) => {
  for (const size of [100, 16 * 1024, 40_000, 1024 * 1024]) {
    const body = Buffer.concat([Buffer.from('--B\r\nContent-Type: image/jpeg\r\n\r\n'), Buffer.alloc(size, 0xff), Buffer.from('\r\n--B--\r\n')]);
    const answer = await exchange([multipartHead('/v1/faces', body.length, 'Connection: close\r\n'), body]);
    expectError(t, answer, 400, 'MISSING_IMAGE', /no "image" file part/);
  }
});

t.test("the HTTP parser's errors have the one shape", async (t) => {
  const chunked =
    'POST /v1/faces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n';
  expectError(t, await exchange([chunked]), 400, 'BAD_REQUEST', /the HTTP request is malformed: Invalid character in chunk size/);
  const huge = `GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Padding: ${'a'.repeat(20_000)}\r\n\r\n`;
  expectError(t, await exchange([huge]), 431, 'HEADERS_TOO_LARGE', /larger than 16 KiB/);
  expectError(t, await exchange(['GET /v1/%zz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n']), 400, 'BAD_REQUEST', /not a valid url/);
  expectError(t, await exchange(['GARBAGE\r\n\r\n']), 400, 'BAD_REQUEST', /malformed/);
  // Headers that never finish.
  expectError(
    t,
    await exchange(['POST /v1/faces HTTP/1.1\r\nHost: 127.0.0.1\r\n']),
    408,
    'REQUEST_TIMEOUT',
    /headers within 2 s \(LUMEN_FACE_REQUEST_TIMEOUT\)/,
  );
});

t.test('framework errors never leak a code outside the table', async (t) => {
  const json = await fetch(`${base}/v1/faces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"image":' });
  t.equal(json.status, 400);
  t.equal((await json.json()).code, 'BAD_REQUEST');
  // A multipart field declared as JSON that is not (a 406 from @fastify/multipart).
  const form = `--B\r\nContent-Disposition: form-data; name="boxes"\r\nContent-Type: application/json\r\n\r\n[[\r\n--B--\r\n`;
  const answer = await exchange([multipartHead('/v1/embed', form.length, 'Connection: close\r\n'), form]);
  const body = JSON.parse(answer.body) as { code: string; statusCode: number };
  t.ok(body.code in ERROR_CODES, `${body.code} is in the table`);
  t.equal(body.statusCode, ERROR_CODES[body.code as keyof typeof ERROR_CODES].status, 'with the status the table gives');
});

t.test('a client request id is kept only when short and of safe characters', async (t) => {
  const id = async (sent: string) => (await fetch(`${base}/healthz`, { headers: { 'x-request-id': sent } })).headers.get('x-request-id');
  t.equal(await id('photo-app.42:upload_7'), 'photo-app.42:upload_7');
  t.equal(await id('a'.repeat(64)), 'a'.repeat(64));
  const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
  for (const hostile of ['<script>alert(1)</script>', 'a'.repeat(65), 'x'.repeat(16_000), 'two words', '"quoted"']) {
    t.match(await id(hostile), uuid, `${hostile.slice(0, 30)} is replaced`);
  }
  const fresh = await fetch(`${base}/healthz`);
  t.match(fresh.headers.get('x-request-id'), uuid, 'without one, a fresh id');
});

t.test('LUMEN_FACE_MAX_FACES caps the faces per image; the max_faces knob can only lower it', async (t) => {
  const group = readFace('groups/t1.jpg');
  for (const url of ['/v1/faces?max_faces=100', '/v1/detect?max_faces=100', '/v1/detect?min_score=0&nms=1', '/v1/faces']) {
    const res = await fetch(`${base}${url}`, { method: 'POST', body: imageForm(group) });
    const { faces } = (await res.json()) as { faces: { box: number[] }[] };
    t.equal(faces.length, 4, `${url}: 4 faces`);
    const areas = faces.map(({ box: [x1, y1, x2, y2] }) => (x2 - x1) * (y2 - y1));
    t.same(
      areas,
      [...areas].sort((a, b) => b - a),
      'largest first',
    );
  }
  const two = await fetch(`${base}/v1/detect?max_faces=2`, { method: 'POST', body: imageForm(group) });
  t.equal(((await two.json()) as { faces: unknown[] }).faces.length, 2);
  t.equal((await backend.faces(group, { max_faces: 100 })).faces.length, 4, 'the library applies it too');
});
