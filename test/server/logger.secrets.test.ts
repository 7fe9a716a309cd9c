import net from 'node:net';
import t from 'tap';
import { readFace } from '../helpers/fixtures.js';
import { startChild } from '../helpers/server-child.js';

/**
 * No secret in any log line at any level: the real server at LUMEN_FACE_LOG_LEVEL=trace (every level)
 * gets keys as `x-api-key`, as a bearer token and in a cookie, on multipart uploads, refused requests
 * and requests Node's parser rejects; its whole output never holds one of them.
 */

const KEY_A = 'secret-key-aaaa-1111';
const KEY_B = 'secret-key-bbbb-2222';
const WRONG = 'wrong-key-cccc-3333';
const COOKIE = 'session=cookie-dddd-4444';
const server = await startChild({ LUMEN_FACE_API_KEYS: `${KEY_A},${KEY_B}`, LUMEN_FACE_LOG_LEVEL: 'trace' });
t.teardown(() => server.stop());

function form() {
  const body = new FormData();
  body.append('image', new Blob([new Uint8Array(readFace('identities/Angelina_Jolie/01.jpg'))], { type: 'image/jpeg' }), 'a.jpg');
  return body;
}

function raw(text: string): Promise<string> {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1', () => socket.write(text));
    let seen = '';
    socket.on('data', (d) => (seen += d));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(seen));
  });
}

t.test('keys, tokens and cookies never reach the log', async (t) => {
  const headerSets: Array<Record<string, string>> = [
    { 'x-api-key': KEY_A, cookie: COOKIE },
    { authorization: `Bearer ${KEY_B}`, cookie: COOKIE },
    { 'x-api-key': WRONG },
    { authorization: `Bearer ${WRONG}` },
  ];
  for (const headers of headerSets) {
    for (const path of ['/v1/faces', '/v1/detect?min_score=abc', '/v1/nothing']) {
      const res = await fetch(`${server.address}${path}`, { method: 'POST', headers, body: form() });
      await res.arrayBuffer();
    }
  }
  // Malformed at the parser: a bad chunk size, and an oversized header, each after a key.
  await raw(`POST /v1/faces HTTP/1.1\r\nHost: 127.0.0.1\r\nx-api-key: ${KEY_A}\r\nCookie: ${COOKIE}\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n`);
  await raw(`POST /v1/faces HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${KEY_B}\r\nx-pad: ${'p'.repeat(20_000)}\r\n\r\n`);
  await new Promise((r) => setTimeout(r, 300));
  const out = server.output();
  t.match(out, /"level":10/, 'trace lines were written');
  for (const secret of [KEY_A, KEY_B, WRONG, 'cookie-dddd-4444']) t.notOk(out.includes(secret), `${secret} is in no line`);
});
