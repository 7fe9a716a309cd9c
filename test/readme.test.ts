import { readFileSync } from 'node:fs';
import t from 'tap';
import { VARIABLES } from '../src/config.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');

t.test('the README starts with the two set-up commands', async (t) => {
  const firstBlock = /```sh\n([\s\S]*?)```/.exec(readme)?.[1] ?? '';
  t.match(firstBlock, /^npm ci && npm start\b/m);
  t.match(firstBlock, /^npm ci && npm test\b/m);
});

t.test('every variable is in the README table with its default', async (t) => {
  for (const variable of Object.values(VARIABLES)) {
    const names = variable.names.map((n) => `\`${n}\``).join(', ');
    t.ok(readme.includes(`| ${names} | ${variable.doc} | ${variable.description} |`), `${variable.names[0]} row`);
  }
});

t.test('the README is short: about 150 lines, the details are in docs/', async (t) => {
  t.ok(readme.split('\n').length <= 170, `${readme.split('\n').length} lines`);
});

t.test('every endpoint has a curl example', async (t) => {
  for (const path of ['/v1/faces', '/v1/detect', '/v1/embed', '/v1/info', '/healthz', '/readyz', '/openapi.json']) {
    t.match(readme, new RegExp(`curl [^\\n]*${path.replace(/\//g, '\\/').replace('.', '\\.')}`), path);
  }
});
