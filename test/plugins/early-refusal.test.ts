import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CLIENTS, multipartBody, sendAll, type Try } from '../../bench/refusal-clients.js';
import { startChild } from '../helpers/server-child.js';

/**
 * Refusals sent before the body has arrived reach real clients that write their whole body before they
 * read: Node's fetch, Node's http.request, curl and Python requests, against the real server in its own
 * process (a client in the server's process would share its event loop and hide the race). Every refusal
 * kind, Node's own parser errors (431) included, for bodies of 1 KB to 8 MB, 20 tries each: every try is
 * answered with the status and the JSON body, and no try ends in a network error. Then the bounds of the
 * lingering close: a client that never stops sending is cut, fast or slow.
 */

const KEY = 'early-refusal-key-1';
const server = await startChild({
  LUMEN_FACE_API_KEYS: KEY,
  LUMEN_FACE_REQUEST_TIMEOUT: '4',
  LUMEN_FACE_LOG_LEVEL: 'info',
});
t.teardown(() => server.stop());
const dir = mkdtempSync(join(tmpdir(), 'lumen-early-refusal-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

interface Kind {
  name: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  status: number;
  code: string;
}

const key = { 'x-api-key': KEY };
const KINDS: Kind[] = [
  { name: 'a bad knob on /v1/faces', method: 'POST', path: '/v1/faces?min_score=abc', headers: key, status: 400, code: 'INVALID_PARAMETER' },
  { name: 'a bad knob on /v1/detect', method: 'POST', path: '/v1/detect?nms=2', headers: key, status: 400, code: 'INVALID_PARAMETER' },
  { name: 'a bad knob on /v1/faces/batch', method: 'POST', path: '/v1/faces/batch?max_faces=x', headers: key, status: 400, code: 'INVALID_PARAMETER' },
  { name: 'a bad knob on /v1/embed', method: 'POST', path: '/v1/embed?bogus=1', headers: key, status: 400, code: 'INVALID_PARAMETER' },
  { name: 'no key', method: 'POST', path: '/v1/faces', headers: {}, status: 401, code: 'UNAUTHORIZED' },
  { name: 'a wrong key', method: 'POST', path: '/v1/detect/batch', headers: { 'x-api-key': 'wrong' }, status: 401, code: 'UNAUTHORIZED' },
  { name: 'a bad bearer', method: 'POST', path: '/v1/verify', headers: { authorization: 'Bearer wrong' }, status: 401, code: 'UNAUTHORIZED' },
  { name: 'no route', method: 'POST', path: '/v1/nothing', headers: key, status: 404, code: 'NOT_FOUND' },
  { name: 'a wrong method', method: 'PUT', path: '/v1/faces', headers: key, status: 405, code: 'METHOD_NOT_ALLOWED' },
  { name: 'a WebDAV method', method: 'PROPFIND', path: '/v1/faces', headers: key, status: 405, code: 'METHOD_NOT_ALLOWED' },
  {
    name: "a 20 KB header (Node's parser)",
    method: 'POST',
    path: '/v1/faces',
    headers: { ...key, 'x-padding': 'p'.repeat(20_000) },
    status: 431,
    code: 'HEADERS_TOO_LARGE',
  },
];
const SIZES = [1_000, 120_000, 1_300_000, 8_000_000];
const TRIES = 20;

for (const client of CLIENTS) {
  t.test(`${client} gets every early refusal, bodies of 1 KB to 8 MB`, async (t) => {
    for (const size of SIZES) {
      const { body, contentType } = multipartBody(size);
      const tries: Array<Try & { kind: Kind }> = Array.from({ length: TRIES }, (_, i) => {
        const kind = KINDS[i % KINDS.length];
        return { kind, method: kind.method, url: `${server.address}${kind.path}`, headers: { ...kind.headers, 'content-type': contentType }, body };
      });
      const seen = await sendAll(client, tries, dir);
      const wrong = seen
        .map((s, i) => ({ s, kind: tries[i].kind }))
        .filter(({ s, kind }) => s.error !== undefined || s.status !== kind.status || s.code !== kind.code)
        .map(({ s, kind }) => `${kind.name}: ${s.error ?? `${s.status} ${s.code}`}`);
      t.same(wrong, [], `${size} bytes: ${TRIES} tries, each answered with its status and JSON code`);
    }
  });
}

/** Writes the head of a refused request, then body bytes until the server lets go; what it saw. */
function neverStops(opts: { chunk: number; everyMs: number }): Promise<{ answer: string; sent: number; end: string }> {
  return new Promise((resolve) => {
    const socket = net.connect(server.port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    let timer: NodeJS.Timeout | undefined;
    const finish = (end: string) => {
      clearTimeout(timer);
      clearTimeout(guard);
      socket.destroy();
      resolve({ answer, sent, end });
    };
    // Far beyond every bound (4 s in all here): reaching it means the server held on.
    const guard = setTimeout(() => finish('still open after 60 s'), 60_000);
    socket.on('data', (d) => (answer += d.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? 'error'));
    socket.on('close', () => finish('closed'));
    socket.write(`POST /v1/faces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const bytes = Buffer.alloc(opts.chunk, 0x41);
    const frame = Buffer.concat([Buffer.from(`${opts.chunk.toString(16)}\r\n`), bytes, Buffer.from('\r\n')]);
    const pump = () => {
      if (socket.destroyed) return;
      sent += frame.length;
      const flushed = socket.write(frame);
      if (opts.everyMs > 0) timer = setTimeout(pump, opts.everyMs);
      else if (flushed) setImmediate(pump);
      else socket.once('drain', pump);
    };
    pump();
  });
}

t.test('a refused client that never stops sending is cut', async (t) => {
  const fast = await neverStops({ chunk: 64 * 1024, everyMs: 0 });
  t.match(fast.answer, /^HTTP\/1\.1 401 /, 'fast: it got the answer first');
  t.not(fast.end, 'still open after 60 s', 'fast: the server let go (byte or time bound)');
  const slow = await neverStops({ chunk: 1, everyMs: 100 });
  t.match(slow.answer, /^HTTP\/1\.1 401 /, 'slow: it got the answer first');
  t.not(slow.end, 'still open after 60 s', 'slow: the server let go (time bound)');
});
