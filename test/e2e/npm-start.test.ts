import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { MODELS_DIR, readFace } from '../helpers/fixtures.js';

/** `npm start` as a real process: start-up failures exit non-zero, a good pack serves on a real port. */

const server = new URL('../../server.js', import.meta.url).pathname;

function start(env: Record<string, string>) {
  const child = spawn(process.execPath, [server], { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

t.test('a bad variable exits 2 before anything starts, naming it', async (t) => {
  const run = start({ LUMEN_FACE_PORT: 'eighty', LUMEN_FACE_DEVICE: 'gpu' });
  t.equal(await run.exited, 2);
  t.match(run.output(), /LUMEN_FACE_PORT is invalid: expected a TCP port from 0 to 65535; received "eighty"/);
  t.match(run.output(), /LUMEN_FACE_DEVICE is invalid: expected .*; received "gpu"/);
  t.notMatch(run.output(), /listening/i);
});

t.test('a pack that cannot be found exits 1, listing every place tried', async (t) => {
  const cache = mkdtempSync(join(tmpdir(), 'lumen-face-server-'));
  t.teardown(() => rmSync(cache, { recursive: true, force: true }));
  const run = start({ LUMEN_FACE_OFFLINE: '1', LUMEN_FACE_CACHE_DIR: cache, LUMEN_FACE_LOCAL_DIR: cache, LUMEN_FACE_PORT: '0' });
  t.equal(await run.exited, 1);
  t.match(run.output(), /local: .*scrfd_10g_iresnet50\/onnxrt\/fp16\/detection\.onnx \(not found\)/);
  t.match(run.output(), /cache: .*\(not found\)/);
  t.match(
    run.output(),
    /remote: https:\/\/huggingface\.co\/Lumilio-Photos\/scrfd_10g_iresnet50\/resolve\/main\/onnxrt\/fp16\/detection\.onnx \(skipped: offline mode\)/,
  );
});

t.test('a good pack serves, and SIGTERM shuts down cleanly', async (t) => {
  const run = start({
    LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
    LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf',
    LUMEN_FACE_PRECISION: 'fp32',
    LUMEN_FACE_OFFLINE: '1',
    LUMEN_FACE_PORT: '0',
  });
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(run.output());
      if (match && /"msg":"ready"/.test(run.output())) {
        clearInterval(timer);
        resolve(match[1]);
      }
    }, 50);
    void run.exited.then(() => reject(new Error(`exited early:\n${run.output()}`)));
  });
  t.same(await (await fetch(`${address}/readyz`)).json(), { status: 'ready' });
  run.child.kill('SIGTERM');
  t.equal(await run.exited, 0);
});

const SMALL_PACK = {
  LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
  LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf',
  LUMEN_FACE_PRECISION: 'fp32',
  LUMEN_FACE_OFFLINE: '1',
  LUMEN_FACE_PORT: '0',
};

/** A guard against a wait that can never end, so a failure shows the output instead of tap's timeout. */
const GIVE_UP_MS = 30_000;

/** Resolves once the output matches (polling the child's output), rejects if the child exits first. */
function waitFor(run: ReturnType<typeof start>, pattern: RegExp): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const began = Date.now();
    const timer = setInterval(() => {
      const match = pattern.exec(run.output());
      if (match) {
        clearInterval(timer);
        resolve(match);
      } else if (Date.now() - began > GIVE_UP_MS) {
        clearInterval(timer);
        reject(new Error(`never saw ${pattern}:\n${run.output()}`));
      }
    }, 50);
    void run.exited.then(() => {
      clearInterval(timer);
      reject(new Error(`exited before ${pattern}:\n${run.output()}`));
    });
  });
}

/**
 * Resolves once the server has received `count` requests it has not answered yet, read from /metrics
 * (Fastify's per-request log lines are off: plugins/request-log.ts logs a request once it is answered).
 */
async function inFlight(port: number, count: number): Promise<void> {
  const began = Date.now();
  for (;;) {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const value = Number(/^lumen_face_http_requests_in_flight (\d+)$/m.exec(text)?.[1]);
    // The scrape itself is one of the requests in flight.
    if (value - 1 >= count) return;
    if (Date.now() - began > GIVE_UP_MS) throw new Error(`never saw ${count} requests in flight:\n${text}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

async function serving(run: ReturnType<typeof start>): Promise<number> {
  const [, port] = await waitFor(run, /Server listening at http:\/\/127\.0\.0\.1:(\d+)[\s\S]*"msg":"ready"/);
  return Number(port);
}

/** A raw connection that collects what the server answers and notes when it closes. */
function connect(port: number) {
  const socket = net.connect(port, '127.0.0.1');
  let received = '';
  socket.on('data', (d) => (received += d));
  socket.on('error', () => undefined);
  const closed = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  return { socket, closed, received: () => received };
}

function multipartHead(url: string, bodyLength: number) {
  return `POST ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: ${bodyLength}\r\n\r\n`;
}

function imageBody(bytes: Buffer) {
  return Buffer.concat([
    Buffer.from('--B\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n'),
    bytes,
    Buffer.from('\r\n--B--\r\n'),
  ]);
}

t.test('SIGTERM lets an upload in flight finish and answer, then exits', async (t) => {
  const run = start({ ...SMALL_PACK, LUMEN_FACE_SHUTDOWN_TIMEOUT: '60' });
  t.teardown(() => run.child.kill('SIGKILL'));
  const port = await serving(run);
  const body = imageBody(readFace('identities/Angelina_Jolie/01.jpg'));
  const client = connect(port);
  client.socket.write(multipartHead('/v1/detect', body.length));
  client.socket.write(body.subarray(0, 1000));
  await inFlight(port, 1);
  run.child.kill('SIGTERM');
  await waitFor(run, /shutting down/);
  client.socket.write(body.subarray(1000));
  t.equal(await run.exited, 0);
  await client.closed;
  t.match(client.received(), /^HTTP\/1\.1 200 OK/, 'the request in flight was answered');
  t.match(client.received(), /"faces":\[\{"box"/);
  t.notMatch(run.output(), /closing their connections/, 'no connection had to be cut');
});

t.test('SIGTERM with a stalled upload in flight exits at LUMEN_FACE_SHUTDOWN_TIMEOUT', async (t) => {
  const run = start({ ...SMALL_PACK, LUMEN_FACE_SHUTDOWN_TIMEOUT: '1', LUMEN_FACE_REQUEST_TIMEOUT: '600' });
  t.teardown(() => run.child.kill('SIGKILL'));
  const port = await serving(run);
  const client = connect(port);
  client.socket.write(multipartHead('/v1/faces', 100_000));
  client.socket.write('--B\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\n\r\nabc');
  await inFlight(port, 1);
  const signalled = performance.now();
  run.child.kill('SIGTERM');
  t.equal(await run.exited, 0);
  const seconds = (performance.now() - signalled) / 1000;
  await client.closed;
  t.match(run.output(), /shutting down[\s\S]*requests still in flight after 1 s \(LUMEN_FACE_SHUTDOWN_TIMEOUT\); closing their connections/);
  t.ok(seconds < 30, `exited ${seconds.toFixed(2)} s after SIGTERM (generous bound: 30 s)`);
});

t.test('slow clients over a real socket: silent ones get 408 and free their slots', async (t) => {
  const run = start({ ...SMALL_PACK, LUMEN_FACE_MAX_INFLIGHT: '4', LUMEN_FACE_REQUEST_TIMEOUT: '1' });
  t.teardown(() => run.child.kill('SIGKILL'));
  const port = await serving(run);
  // Four uploads that send their headers and never their body (a slot is taken only once a body has arrived, so they hold none).
  const slow = Array.from({ length: 4 }, () => connect(port));
  for (const c of slow) c.socket.write(multipartHead('/v1/detect', 50_000));
  await Promise.all(slow.map((c) => c.closed));
  for (const c of slow) {
    t.match(c.received(), /^HTTP\/1\.1 408 Request Timeout\r\n/);
    const body = JSON.parse(c.received().split('\r\n\r\n')[1]);
    t.same(body, {
      statusCode: 408,
      code: 'REQUEST_TIMEOUT',
      error: 'Request Timeout',
      message: 'the request sent nothing for 1 s (LUMEN_FACE_REQUEST_TIMEOUT)',
    });
  }
  // plugins/request-log.ts logs each once it is answered.
  await waitFor(run, /("route":"\/v1\/detect","status":408[^\n]*"msg":"request"[\s\S]*){4}/);
  // Their slots are free again: a real upload is served.
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(readFace('identities/Angelina_Jolie/01.jpg'))], { type: 'image/jpeg' }), 'a.jpg');
  const res = await fetch(`http://127.0.0.1:${port}/v1/detect`, { method: 'POST', body: form });
  t.equal(res.status, 200);
  run.child.kill('SIGTERM');
  t.equal(await run.exited, 0);
});
