import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { MODELS_DIR } from './helpers/fixtures.js';

/** `npm start` as a real process: start-up failures exit non-zero, a good pack serves on a real port. */

const server = new URL('../server.js', import.meta.url).pathname;

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
  t.match(run.output(), /remote: https:\/\/huggingface\.co\/Lumilio-Photos\/scrfd_10g_iresnet50\/resolve\/main\/onnxrt\/fp16\/detection\.onnx \(skipped: offline mode\)/);
});

t.test('a good pack serves, and SIGTERM shuts down cleanly', async (t) => {
  const run = start({
    LUMEN_FACE_LOCAL_DIR: MODELS_DIR, LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf', LUMEN_FACE_PRECISION: 'fp32',
    LUMEN_FACE_OFFLINE: '1', LUMEN_FACE_PORT: '0',
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
