import net from 'node:net';
import t from 'tap';
import { readFace } from '../helpers/fixtures.js';
import { startChild } from '../helpers/server-child.js';

/**
 * Connections and slow clients, against the real server in its own process: 32 uploads trickling one
 * byte a second are all cut (408) on the default settings while a normal request is served; and at the
 * connection cap, idle sockets make room so that /healthz still answers.
 */

const photo = readFace('identities/Angelina_Jolie/01.jpg');

function form() {
  const body = new FormData();
  body.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'a.jpg');
  return body;
}

/** Sends a request head and then one body byte a second; resolves with what it saw when the server let go. */
function trickle(port: number, limitMs: number): Promise<{ answer: string; end: string; ms: number }> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect(port, '127.0.0.1');
    let answer = '';
    let done = false;
    const finish = (end: string) => {
      if (done) return;
      done = true;
      clearInterval(tick);
      clearTimeout(guard);
      socket.destroy();
      resolve({ answer, end, ms: performance.now() - started });
    };
    socket.write('POST /v1/faces HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n');
    const tick = setInterval(() => socket.write('x'), 1000);
    const guard = setTimeout(() => finish('still open'), limitMs);
    socket.on('data', (d) => (answer += d));
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? 'error'));
    socket.on('close', () => finish('closed'));
  });
}

t.test('32 uploads at 1 byte/s are all cut within 60 s, and a normal request is served meanwhile', async (t) => {
  const server = await startChild({});
  t.teardown(() => server.stop());
  const tricklers = Array.from({ length: 32 }, () => trickle(server.port, 60_000));
  await new Promise((r) => setTimeout(r, 2000));
  const res = await fetch(`${server.address}/v1/faces`, { method: 'POST', body: form() });
  await res.arrayBuffer();
  t.equal(res.status, 200, 'a normal request is served while they trickle');
  const seen = await Promise.all(tricklers);
  t.same(seen.filter((s) => s.end === 'still open').length, 0, 'every trickler was cut within 60 s');
  t.same(seen.filter((s) => !/^HTTP\/1\.1 408 /.test(s.answer)).length, 0, 'each got 408');
  t.match(seen[0].answer, /LUMEN_FACE_MIN_UPLOAD_RATE/, 'naming the rule');
});

t.test('at the connection cap, idle connections make room and /healthz answers', async (t) => {
  const server = await startChild({ LUMEN_FACE_MAX_CONNECTIONS: '20' });
  t.teardown(() => server.stop());
  const closed: string[] = [];
  const idle = await Promise.all(
    Array.from(
      { length: 30 },
      () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect(server.port, '127.0.0.1', () => resolve(socket));
          socket.on('error', () => undefined);
          socket.on('close', () => closed.push('closed'));
        }),
    ),
  );
  t.teardown(() => {
    for (const s of idle) s.destroy();
  });
  await new Promise((r) => setTimeout(r, 500));
  t.ok(closed.length >= 10, `the server holds at most 20: ${closed.length} of 30 idle connections were closed`);
  for (let i = 0; i < 3; i++) {
    const res = await fetch(`${server.address}/healthz`);
    t.equal(res.status, 200, `/healthz answers at the cap (try ${i + 1})`);
  }
});
