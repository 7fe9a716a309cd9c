import net from 'node:net';
import t from 'tap';
import { testApp } from '../helpers/app.js';
import { backendFor, TEST_ENGINE } from '../helpers/fixtures.js';

/**
 * Small refusals in the one JSON shape, over a real socket: unknown query parameters on /v1/verify and
 * /predict, other `Expect` values, CONNECT, an over-long multipart boundary, an unknown parameter on a
 * route without knobs, and a JSON body with a "__proto__" key.
 */

const backend = await backendFor('scrfd_500m_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());
const app = await testApp(t, { backend, env: { LUMEN_FACE_IMMICH: 'public' } });
const base = await app.listen({ host: '127.0.0.1', port: 0 });
const port = Number(new URL(base).port);

function raw(text: string): Promise<{ text: string; end: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let seen = '';
    const guard = setTimeout(() => finish('still open'), 10_000);
    const finish = (end: string) => {
      clearTimeout(guard);
      socket.destroy();
      resolve({ text: seen, end });
    };
    socket.on('data', (d) => (seen += d));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? 'error'));
    socket.on('close', () => finish('closed'));
  });
}
const jsonOf = (text: string) => JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4)) as { statusCode: number; code: string; message: string };

t.test('/v1/verify and /predict refuse unknown query parameters', async (t) => {
  for (const path of ['/v1/verify?bogus=1', '/v1/verify?__proto__=1', '/predict?bogus=1']) {
    const res = await fetch(`${base}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"embedding1":[1,0],"embedding2":[0,1]}',
    });
    const body = (await res.json()) as { code: string; message: string };
    t.equal(res.status, 400, path);
    t.equal(body.code, 'INVALID_PARAMETER', path);
    t.match(body.message, /unknown query parameter/, path);
  }
});

t.test('an Expect other than 100-continue gets our JSON 417, and the connection is closed', async (t) => {
  const seen = await raw('POST /v1/faces HTTP/1.1\r\nHost: 127.0.0.1\r\nExpect: 200-ok\r\nContent-Length: 10\r\n\r\n');
  t.match(seen.text, /^HTTP\/1\.1 417 /);
  t.match(jsonOf(seen.text), { statusCode: 417, code: 'EXPECTATION_FAILED' });
  t.equal(seen.end, 'closed');
});

t.test('CONNECT gets our JSON 405', async (t) => {
  const seen = await raw('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
  t.match(seen.text, /^HTTP\/1\.1 405 /);
  t.match(jsonOf(seen.text), { statusCode: 405, code: 'METHOD_NOT_ALLOWED' });
});

t.test('a multipart boundary over 256 characters is named in our words', async (t) => {
  const boundary = 'b'.repeat(300);
  const res = await fetch(`${base}/v1/faces`, {
    method: 'POST',
    headers: { 'content-type': `multipart/form-data; boundary=${boundary}` },
    body: `--${boundary}\r\n\r\n--${boundary}--\r\n`,
  });
  const body = (await res.json()) as { code: string; message: string };
  t.equal(res.status, 400);
  t.equal(body.code, 'MALFORMED_MULTIPART');
  t.match(body.message, /boundary is longer than 256 characters/);
  t.notMatch(body.message, /needle/);
});

t.test('an unknown parameter on a route without knobs is named', async (t) => {
  const res = await fetch(`${base}/v1/info?x=1`);
  const body = (await res.json()) as { code: string; message: string };
  t.equal(res.status, 400);
  t.match(body.message, 'unknown query parameter "x"');
  t.notMatch(body.message, /"querystring"/);
});

t.test('a JSON body with a "__proto__" key is refused for that key, not called invalid JSON', async (t) => {
  const res = await fetch(`${base}/v1/faces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"image":"aGk=","__proto__":{"x":1}}',
  });
  const body = (await res.json()) as { code: string; message: string };
  t.equal(res.status, 400);
  t.match(body.message, '"__proto__" key');
  const broken = await fetch(`${base}/v1/faces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"image":' });
  t.equal(broken.status, 400);
  t.match(((await broken.json()) as { message: string }).message, /not valid JSON/, 'broken JSON still says so');
});

t.test('with CORS on, an OPTIONS that is no preflight gets our JSON 400', async (t) => {
  const cors = await testApp(t, { backend, env: { LUMEN_FACE_CORS_ORIGINS: 'https://photos.example' } });
  const corsBase = await cors.listen({ host: '127.0.0.1', port: 0 });
  const res = await fetch(`${corsBase}/v1/faces`, { method: 'OPTIONS' });
  t.equal(res.status, 400);
  t.match(res.headers.get('content-type'), /application\/json/);
  t.match(await res.json(), { statusCode: 400, code: 'BAD_REQUEST', message: /CORS preflight/ });
  const preflight = await fetch(`${corsBase}/v1/faces`, {
    method: 'OPTIONS',
    headers: { origin: 'https://photos.example', 'access-control-request-method': 'POST' },
  });
  t.equal(preflight.status, 204, 'a real preflight is still answered');
  t.equal(preflight.headers.get('access-control-allow-origin'), 'https://photos.example');
});

t.test('a JSON knob too large for a number is reported as such, not as null', async (t) => {
  const res = await fetch(`${base}/v1/faces`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"image":"aGk=","min_score":1e309}' });
  const body = (await res.json()) as { code: string; message: string };
  t.equal(res.status, 400);
  t.equal(body.code, 'INVALID_PARAMETER');
  t.match(body.message, /min_score/);
  t.match(body.message, /received "Infinity"/);
  t.notMatch(body.message, /null/);
});

t.test('an internal address is refused in one readable sentence', async (t) => {
  const fetching = await testApp(t, { backend, env: { LUMEN_FACE_URL_FETCH_ALLOW: 'http://127.0.0.1:18100' } });
  const fetchingBase = await fetching.listen({ host: '127.0.0.1', port: 0 });
  const res = await fetch(`${fetchingBase}/v1/faces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"url":"http://127.0.0.1:18100/a.jpg"}',
  });
  const body = (await res.json()) as { code: string; message: string };
  t.equal(body.code, 'URL_NOT_ALLOWED');
  t.match(body.message, '127.0.0.1:18100 is refused: 127.0.0.1 is a loopback');
  t.notMatch(body.message, /18100 is 127/);
});
