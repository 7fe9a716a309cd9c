import { spawn } from 'node:child_process';
import t from 'tap';
import { MODELS_DIR } from '../helpers/fixtures.js';

/**
 * `npm start` with its output in a pipe, as Docker and systemd run it: every stdout line is one JSON object,
 * and nothing from ONNX Runtime's own logger (stderr, which Docker merges into the same stream) gets in,
 * even without a writable home directory, where ORT's telemetry would print a coloured warning.
 */

const server = new URL('../../server.js', import.meta.url).pathname;

t.test('a real start-up and shutdown write only JSON lines', async (t) => {
  const child = spawn(process.execPath, [server], {
    env: {
      PATH: process.env.PATH ?? '',
      // A home no process can write, like a container's non-root user without one.
      HOME: '/proc/lumen-face-no-home',
      LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
      LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf',
      LUMEN_FACE_PRECISION: 'fp32',
      LUMEN_FACE_OFFLINE: '1',
      LUMEN_FACE_PORT: '0',
      LUMEN_FACE_WORKERS: '1',
    },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  t.teardown(() => void child.kill('SIGKILL'));
  await new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (/"msg":"ready"/.test(stdout)) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
    void exited.then(() => reject(new Error(`exited early:\n${stdout}${stderr}`)));
  });
  const address = /listening at (http:\/\/[0-9.]+:\d+)/.exec(stdout)![1];
  await (await fetch(`${address}/v1/info`)).json();
  child.kill('SIGTERM');
  t.equal(await exited, 0);

  const lines = stdout.split('\n').filter((l) => l !== '');
  t.ok(lines.length >= 3, 'start-up, ready, a request and shutdown are logged');
  for (const line of lines) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(line);
    } catch {
      parsed = undefined;
    }
    t.ok(parsed !== null && typeof parsed === 'object', `stdout line is a JSON object: ${line.slice(0, 120)}`);
  }
  t.equal(stderr, '', 'nothing on stderr (ONNX Runtime logs there)');
});
