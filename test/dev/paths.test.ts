import { spawnSync } from 'node:child_process';
import t from 'tap';

/** dev/paths.ts has no side effect on import; dev/fixtures.ts insists on the shared data. */

const importIn = (module: string) =>
  spawnSync(process.execPath, ['--input-type=module', '-e', `await import(${JSON.stringify(new URL(module, import.meta.url).href)})`], {
    env: { PATH: process.env.PATH ?? '', LUMEN_FACE_TEST_MODELS: '/nonexistent/models', LUMEN_FACE_TEST_FACES: '/nonexistent/faces' },
    encoding: 'utf8',
  });

t.test('paths.js imports without the shared models and photos', async (t) => {
  const run = importIn('../../dev/paths.js');
  t.equal(run.status, 0, run.stderr);
});

t.test('a static test runs without them', async (t) => {
  const run = importIn('../architecture.test.js');
  t.equal(run.status, 0, run.stderr);
});

t.test('fixtures.js refuses to run without them, saying where it looked', async (t) => {
  const run = importIn('../../dev/fixtures.js');
  t.not(run.status, 0);
  t.match(run.stderr, 'model packs not found at /nonexistent/models');
});
