import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import t from 'tap';
import { MODELS_DIR } from './helpers/fixtures.js';
import { REPO_ROOT } from './helpers/paths.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';

t.test('the README starts with the two set-up commands', async (t) => {
  t.match(firstBlock, /^npm ci && node dist\/server\.js\b/m);
  t.match(firstBlock, /^npm ci && npm test\b/m);
});

t.test('the README says once where the test photos and models come from, and how to point elsewhere', async (t) => {
  const top = readme.slice(0, readme.indexOf('\n## '));
  for (const words of ['../shared/models', '../shared/faces', 'LUMEN_FACE_TEST_MODELS', 'LUMEN_FACE_TEST_FACES']) t.match(top, words);
});

t.test('the README links the configuration page instead of repeating its table', async (t) => {
  t.match(readme, '(docs/configuration.md)');
  t.notMatch(readme, /^\| `LUMEN_FACE_/m, 'no configuration rows');
  t.notMatch(readme, /src\/config\.ts/, 'the table lives in src/config/table.ts');
});

t.test('fetch is followed by a check of the same pack', async (t) => {
  const fetch = /npm run cli -- fetch (.*?)\s+#/.exec(readme)?.[1];
  t.ok(fetch, 'a fetch example');
  t.match(readme, `npm run cli -- check ${fetch}`);
});

t.test('the README is short: about 150 lines, the details are in docs/', async (t) => {
  t.ok(readme.split('\n').length <= 170, `${readme.split('\n').length} lines`);
});

t.test('every endpoint has a curl example', async (t) => {
  for (const path of ['/v1/faces', '/v1/detect', '/v1/embed', '/v1/info', '/healthz', '/readyz', '/openapi.json']) {
    t.match(readme, new RegExp(`curl [^\\n]*${path.replace(/\//g, '\\/').replace('.', '\\.')}`), path);
  }
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });

t.test('the documented start is stopped by `kill <pid>`: the port is free afterwards', async (t) => {
  const start = /^npm ci && (.*?)\s+#/m.exec(firstBlock)?.[1];
  t.ok(start, 'the start command');
  const port = await freePort();
  const child = spawn('sh', ['-c', `exec ${start}`], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
      LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf',
      LUMEN_FACE_PRECISION: 'fp32',
      LUMEN_FACE_WORKERS: '1',
      LUMEN_FACE_PORT: String(port),
      LUMEN_FACE_LOG_FORMAT: 'json',
    },
    stdio: 'ignore',
    // Its own process group, so whatever it started is cleaned up even when the kill does not reach it.
    detached: true,
  });
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  let healthy = false;
  for (let i = 0; i < 600 && !healthy; i++) {
    healthy = await fetch(`http://127.0.0.1:${port}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (!healthy) await new Promise((r) => setTimeout(r, 50));
  }
  t.ok(healthy, 'the service answers');
  process.kill(child.pid!, 'SIGTERM');
  t.equal(await exited, 0, 'the process it started exits');
  const refused = await fetch(`http://127.0.0.1:${port}/healthz`).then(
    () => false,
    () => true,
  );
  t.ok(refused, 'nothing listens on the port any more');
});
