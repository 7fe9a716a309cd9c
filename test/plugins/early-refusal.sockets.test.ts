import net from 'node:net';
import t from 'tap';
import { backendFor, readFace, TEST_ENGINE } from '../helpers/fixtures.js';
import { testApp } from '../helpers/app.js';

/**
 * Early refusals over real sockets: an answer given before the body arrived says `Connection: close`
 * and the connection is closed promptly (not after LUMEN_FACE_REQUEST_TIMEOUT, 60 s here), the answer
 * reaches a client that keeps writing, and `Expect: 100-continue` is answered with the refusal.
 */

const KEY = 'faults-key-1';
const backend = await backendFor('scrfd_500m_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());
const app = await testApp(t, {
  backend,
  env: {
    LUMEN_FACE_REQUEST_TIMEOUT: '60',
    LUMEN_FACE_UPLOAD_TIMEOUT: '120',
    LUMEN_FACE_MAX_INFLIGHT: '1',
    LUMEN_FACE_MAX_UPLOAD_BYTES: '1000000',
    LUMEN_FACE_API_KEYS: KEY,
    LUMEN_FACE_ALLOWED_HOSTS: '127.0.0.1',
  },
});
const port = Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
const photo = readFace('identities/Angelina_Jolie/01.jpg');
/** Long enough to tell "closed promptly" from "held until a timeout" (60 s), short enough for the suite. */
const PROMPT_MS = 10_000;

interface Seen {
  text: string;
  /** 'closed' when the server closed the connection, 'open' when it still held it after PROMPT_MS. */
  end: 'closed' | 'open' | string;
}

/** Writes `head` (and then `body` chunks as fast as the socket takes them, if any), reads everything. */
function talk(head: string, opts: { body?: { chunk: Buffer; total: number }; afterHead?: (s: net.Socket, text: () => string) => void } = {}): Promise<Seen> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    let text = '';
    let done = false;
    const finish = (end: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, end });
    };
    const timer = setTimeout(() => finish('open'), PROMPT_MS);
    socket.on('data', (d) => (text += d.toString('latin1')));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? 'error'));
    socket.on('close', () => finish('closed'));
    socket.write(head);
    opts.afterHead?.(socket, () => text);
    if (opts.body) {
      const { chunk, total } = opts.body;
      let sent = 0;
      const pump = () => {
        while (!done && sent < total && !socket.destroyed) {
          sent += chunk.length;
          if (!socket.write(chunk)) return void socket.once('drain', pump);
        }
      };
      pump();
    }
  });
}

const post = (path: string, length: number, extra = '') =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: ${length}\r\n${extra}\r\n`;
const withKey = `x-api-key: ${KEY}\r\n`;

const status = (seen: Seen) => Number(/^HTTP\/1\.1 (\d{3})/.exec(seen.text)?.[1]);
const header = (seen: Seen, name: string) => new RegExp(`^${name}: *(.*)$`, 'im').exec(seen.text.split('\r\n\r\n')[0])?.[1]?.trim();
const bodyOf = (seen: Seen) => JSON.parse(seen.text.slice(seen.text.indexOf('\r\n\r\n') + 4)) as { code: string };

// 503 BUSY is no early refusal any more: an image route reads the whole body before it asks for a slot
// (test/plugins/inflight.slow-uploads.test.ts), so a request is never turned away while its bytes arrive.
t.test('a refusal before the body says Connection: close and closes the socket promptly', async (t) => {
  const cases: Array<[string, string, number, string]> = [
    ['413', post('/v1/detect', 50_000_000, withKey), 413, 'UPLOAD_TOO_LARGE'],
    ['401', post('/v1/detect', 100_000), 401, 'UNAUTHORIZED'],
    ['400', post('/v1/detect?min_score=abc', 100_000, withKey), 400, 'INVALID_PARAMETER'],
    ['421', post('/v1/detect', 100_000, withKey).replace('Host: 127.0.0.1', 'Host: elsewhere.example'), 421, 'MISDIRECTED_REQUEST'],
  ];
  const seen: Seen[] = [];
  for (const [, head] of cases) {
    seen.push(...(await Promise.all(Array.from({ length: 5 }, () => talk(head)))));
  }
  for (const [i, one] of seen.entries()) {
    const [name, , code, errorCode] = cases[Math.floor(i / 5)];
    t.equal(status(one), code, `${name}: answered`);
    t.equal(bodyOf(one).code, errorCode, `${name}: in our shape`);
    t.equal(header(one, 'connection'), 'close', `${name}: Connection: close`);
    t.equal(one.end, 'closed', `${name}: the server closed the connection`);
  }
});

t.test('a client that writes before it reads gets the 413, not ECONNRESET', async (t) => {
  for (let i = 0; i < 3; i++) {
    // Refused on its declared length at once, while this client writes as fast as the socket takes it.
    const chunk = Buffer.alloc(64 * 1024, 0x41);
    const seen = await talk(post('/v1/detect', 50_000_000, withKey), { body: { chunk, total: 50_000_000 } });
    t.equal(status(seen), 413, `run ${i + 1}: the 413 arrived`);
    t.equal(bodyOf(seen).code, 'UPLOAD_TOO_LARGE');
    t.not(seen.end, 'open', 'then the server let the connection go');
  }
});

t.test('Expect: 100-continue is answered with the refusal, not 100 Continue', async (t) => {
  const tooLarge = await talk(post('/v1/detect', 50_000_000, `${withKey}Expect: 100-continue\r\n`));
  t.equal(status(tooLarge), 413, 'too large: 413 first');
  t.notMatch(tooLarge.text, /100 Continue/);
  t.equal(tooLarge.end, 'closed');
  const denied = await talk(post('/v1/detect', 100_000, 'Expect: 100-continue\r\n'));
  t.equal(status(denied), 401, 'no key: 401 first');
  t.notMatch(denied.text, /100 Continue/);
});

t.test('Expect: 100-continue on an accepted request gets 100, then the answer', async (t) => {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'a.jpg');
  const req = new Request('http://x/', { method: 'POST', body: form });
  const body = Buffer.from(await req.arrayBuffer());
  const head =
    `POST /v1/detect HTTP/1.1\r\nHost: 127.0.0.1\r\n${withKey}Content-Type: ${req.headers.get('content-type')}\r\n` +
    `Content-Length: ${body.length}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n`;
  const seen = await talk(head, {
    afterHead: (socket, text) => {
      const wait = setInterval(() => {
        if (/^HTTP\/1\.1 100 Continue\r\n\r\n/.test(text())) {
          clearInterval(wait);
          socket.write(body);
        }
      }, 10);
      socket.once('close', () => clearInterval(wait));
    },
  });
  t.match(seen.text, /^HTTP\/1\.1 100 Continue\r\n\r\nHTTP\/1\.1 200 /, '100, then 200');
});

t.test('prototype names as query knobs get INVALID_PARAMETER naming the knob', async (t) => {
  for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
    const res = await fetch(`http://127.0.0.1:${port}/v1/detect?${name}=1`, { method: 'POST', headers: { 'x-api-key': KEY }, body: new FormData() });
    const body = (await res.json()) as { code: string; message: string };
    t.equal(res.status, 400, name);
    t.equal(body.code, 'INVALID_PARAMETER', name);
    t.match(body.message, `unknown query parameter "${name}"`, name);
  }
});

t.test('an HTTP/1.1 request without Host gets our JSON 400', async (t) => {
  const seen = await talk('GET /healthz HTTP/1.1\r\nConnection: close\r\n\r\n');
  t.equal(status(seen), 400);
  t.match(bodyOf(seen), { statusCode: 400, code: 'BAD_REQUEST', message: 'an HTTP/1.1 request needs a Host header' });
  const ok = await talk('GET /healthz HTTP/1.0\r\n\r\n');
  t.equal(status(ok), 200, 'HTTP/1.0 needs none');
});
