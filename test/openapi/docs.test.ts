import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { configTable } from '../../openapi/config-table.js';
import { docsServer, DOC_PAGES, REPO_ROOT } from '../../openapi/docs-server.js';
import { EXAMPLE_BLOCK, withExamples, withoutNoise } from '../../openapi/examples.js';

/** The docs cannot go stale: every example is what `npm run docs` produces today, floats aside. */

const run = promisify(execFile);
const read = (file: string) => readFileSync(join(REPO_ROOT, file), 'utf8');

t.test('the configuration tables are the one table in src/config.ts', async (t) => {
  for (const file of ['README.md', 'docs/configuration.md']) t.ok(read(file).includes(configTable()), `${file}: run \`npm run docs\``);
});

t.test('every example is the real output of its command', async (t) => {
  const server = await docsServer();
  t.teardown(() => server.close());
  for (const file of DOC_PAGES) {
    const committed = read(file);
    t.ok([...committed.matchAll(EXAMPLE_BLOCK)].length >= 10, `${file} has its examples`);
    const fresh = await withExamples(committed, server.run);
    // Line by line, so a failure shows the first line that differs.
    const want = withoutNoise(fresh).split('\n');
    const got = withoutNoise(committed).split('\n');
    const first = want.findIndex((line, i) => line !== got[i]);
    t.equal(first, -1, `${file} matches \`npm run docs\`${first >= 0 ? ` from line ${first + 1}: ${JSON.stringify(got[first])} should be ${JSON.stringify(want[first])}` : ''}`);
    t.equal(got.length, want.length);
  }
});

t.test('docs/api.md names every operationId and every named schema', async (t) => {
  const api = read('docs/api.md');
  const doc = JSON.parse(read('openapi/openapi.json')) as { paths: Record<string, Record<string, { operationId?: string }>>; components: { schemas: Record<string, unknown> } };
  for (const path of Object.values(doc.paths)) for (const op of Object.values(path)) if (op.operationId) t.match(api, `\`${op.operationId}\``);
  for (const name of Object.keys(doc.components.schemas)) t.match(api, `\`${name}\``);
});

t.test('the Python example of docs/api.md runs against a real server', async (t) => {
  const code = /<!-- python client -->\n```python\n([\s\S]*?)```\n<!-- end python client -->/.exec(read('docs/api.md'))?.[1];
  t.ok(code, 'the block is there');
  const python = await run('python3', ['-c', 'import requests']).then(() => true, () => false);
  if (!python) {
    t.comment('python3 with requests is not installed here: the example was not run');
    return;
  }
  const server = await docsServer();
  t.teardown(() => server.close());
  const { stdout } = await run('python3', ['-c', code!], { cwd: REPO_ROOT, env: { ...process.env, LUMEN_FACE_URL: server.origin } });
  const lines = stdout.trim().split('\n');
  t.equal(lines.length, 2, 'two faces in couple.jpg');
  for (const line of lines) t.match(line, /^\[[\d., ]+\] 0\.\d+ 128$/);
});

t.test('the masking keeps what does not depend on float noise', async (t) => {
  t.equal(withoutNoise('{"score": 0.8476, "width": 2280, "code": "NO_FACE"}'), '{"score": #, "width": 2280, "code": "NO_FACE"}');
  t.not(withoutNoise('"faces": []'), withoutNoise('"faces": [{}]'));
});

t.test('the README links every page, and the pages exist', async (t) => {
  const readme = read('README.md');
  const others = new Set(['docs/input.md', 'docs/limits.md', 'docs/immich.md']);
  for (const [, link] of readme.matchAll(/\]\((docs\/[a-z-]+\.md)[^)]*\)/g)) {
    // Three pages are written on other branches at the same time.
    t.ok(existsSync(join(REPO_ROOT, link)), `${link} exists`, { todo: others.has(link) && !existsSync(join(REPO_ROOT, link)) ? 'written on another branch' : false });
  }
  for (const page of ['api', 'models', 'configuration', 'deployment', 'performance', 'rknn', 'development']) t.match(readme, `(docs/${page}.md)`);
});
