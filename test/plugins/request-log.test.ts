import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import t from 'tap';
import { FACES_DIR, MODELS_DIR } from '../helpers/fixtures.js';

/** The real server's log: one line per request, probes only at debug, and never a key. */

const server = new URL('../../server.js', import.meta.url).pathname;
const KEY = 'valid-secret-key-7f3a9c';
const WRONG = 'wrong-secret-key-0b1d2e';

t.test('one info line per request, with route, status, duration, faces and stages; no keys', async (t) => {
  const child = spawn(process.execPath, [server], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
      LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf',
      LUMEN_FACE_PRECISION: 'fp32',
      LUMEN_FACE_OFFLINE: '1',
      LUMEN_FACE_PORT: '0',
      LUMEN_FACE_WORKERS: '1',
      LUMEN_FACE_API_KEYS: KEY,
    },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => child.kill('SIGKILL'));
  const address = await new Promise<string>((resolve, reject) => {
    const timer = setInterval(() => {
      const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match && /"msg":"ready"/.test(output)) {
        clearInterval(timer);
        resolve(match[1]);
      }
    }, 50);
    void exited.then(() => reject(new Error(`exited early:\n${output}`)));
  });

  t.equal((await fetch(`${address}/healthz`)).status, 200);
  t.equal((await fetch(`${address}/readyz`)).status, 200);
  const form = new FormData();
  form.append('image', new Blob([readFileSync(`${FACES_DIR}/groups/t1.jpg`)], { type: 'image/jpeg' }), 't1.jpg');
  const faces = await fetch(`${address}/v1/faces`, { method: 'POST', body: form, headers: { 'x-api-key': KEY, 'x-request-id': 'log-test-1' } });
  t.equal(faces.status, 200);
  const faceCount = ((await faces.json()) as { faces: unknown[] }).faces.length;
  t.equal((await fetch(`${address}/v1/info`, { headers: { 'x-api-key': WRONG } })).status, 401);
  t.equal((await fetch(`${address}/v1/info`, { headers: { authorization: `Bearer ${KEY}` } })).status, 200);

  child.kill('SIGTERM');
  t.equal(await exited, 0);

  t.notOk(output.includes(KEY), 'the valid key is never logged');
  t.notOk(output.includes(WRONG), 'a wrong key is never logged');
  const lines = output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  const requests = lines.filter((l) => l.msg === 'request');
  t.same(
    requests.map((l) => [l.route, l.status]),
    [
      ['/v1/faces', 200],
      ['/v1/info', 401],
      ['/v1/info', 200],
    ],
    'probes are not logged at info',
  );
  t.notOk(
    lines.some((l) => l.msg === 'incoming request' || l.msg === 'request completed'),
    'no Fastify per-request lines',
  );
  const line = requests[0];
  t.equal(line.level, 30, 'info');
  t.equal(line.reqId, 'log-test-1');
  t.equal(line.method, 'POST');
  t.equal(line.faces, faceCount);
  t.type(line.durationMs, 'number');
  t.same(Object.keys(line.stagesMs as object).slice(0, 4), ['decode', 'detect', 'align', 'embed']);
  t.notOk('faces' in requests[1], 'no faces on a request without an image');
});
