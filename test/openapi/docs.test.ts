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

t.test('the configuration table is the one table in src/config/table.ts', async (t) => {
  t.ok(read('docs/configuration.md').includes(configTable()), 'docs/configuration.md: run `npm run docs`');
});

t.test('every example is the real output of its command', async (t) => {
  const server = await docsServer();
  t.teardown(() => server.close());
  for (const file of DOC_PAGES) {
    const committed = read(file);
    t.ok([...committed.matchAll(EXAMPLE_BLOCK)].length >= (file === 'docs/api.md' ? 10 : 1), `${file} has its examples`);
    const fresh = await withExamples(committed, server.run);
    // Line by line, so a failure shows the first line that differs.
    const want = withoutNoise(fresh).split('\n');
    const got = withoutNoise(committed).split('\n');
    const first = want.findIndex((line, i) => line !== got[i]);
    t.equal(
      first,
      -1,
      `${file} matches \`npm run docs\`${first >= 0 ? ` from line ${first + 1}: ${JSON.stringify(got[first])} should be ${JSON.stringify(want[first])}` : ''}`,
    );
    t.equal(got.length, want.length);
  }
});

t.test('docs/api.md names every operationId and every named schema', async (t) => {
  const api = read('docs/api.md');
  const doc = JSON.parse(read('openapi/openapi.json')) as {
    paths: Record<string, Record<string, { operationId?: string }>>;
    components: { schemas: Record<string, unknown> };
  };
  for (const path of Object.values(doc.paths)) for (const op of Object.values(path)) if (op.operationId) t.match(api, `\`${op.operationId}\``);
  for (const name of Object.keys(doc.components.schemas)) t.match(api, `\`${name}\``);
});

t.test('the Python example of docs/api.md runs against a real server', async (t) => {
  const code = /<!-- python client -->\n```python\n([\s\S]*?)```\n<!-- end python client -->/.exec(read('docs/api.md'))?.[1];
  t.ok(code, 'the block is there');
  const python = await run('python3', ['-c', 'import requests']).then(
    () => true,
    () => false,
  );
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
    t.ok(existsSync(join(REPO_ROOT, link)), `${link} exists`, {
      todo: others.has(link) && !existsSync(join(REPO_ROOT, link)) ? 'written on another branch' : false,
    });
  }
  for (const page of ['api', 'models', 'configuration', 'deployment', 'performance', 'rknn', 'development']) t.match(readme, `(docs/${page}.md)`);
});

t.test('what the pages show of the server is what it sends today', async (t) => {
  const engines = JSON.parse(read('package.json')).engines.node as string;
  const [minMajor, minMinor] = /(\d+)\.(\d+)/.exec(engines)!.slice(1).map(Number);
  for (const file of ['README.md', ...DOC_PAGES, 'docs/configuration.md']) {
    for (const [, version] of read(file).matchAll(/"node": "(\d+\.\d+\.\d+)"/g)) {
      const [major, minor] = version.split('.').map(Number);
      t.ok(major > minMajor || (major === minMajor && minor >= minMinor), `${file} shows Node ${version}, which engines (${engines}) allows`);
    }
    for (const [, id] of read(file).matchAll(/x-request-id: (\S+)/g)) {
      t.match(id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/, `${file}: the server sends a UUID when the client sends no id`);
    }
  }
});
