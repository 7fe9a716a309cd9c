import { readFileSync, writeFileSync } from 'node:fs';
import { withConfigTable } from './config-table.js';
import { docsServer, DOC_PAGES, REPO_ROOT } from './docs-server.js';
import { withExamples } from './examples.js';

/** `npm run docs`: the configuration tables, and every example of docs/*.md run against a real server. */

for (const file of ['docs/configuration.md']) {
  const path = `${REPO_ROOT}/${file}`;
  writeFileSync(path, withConfigTable(readFileSync(path, 'utf8')));
  process.stdout.write(`wrote the configuration table of ${file}\n`);
}
const server = await docsServer();
try {
  for (const file of DOC_PAGES) {
    const path = `${REPO_ROOT}/${file}`;
    writeFileSync(path, await withExamples(readFileSync(path, 'utf8'), server.run));
    process.stdout.write(`wrote the examples of ${file}\n`);
  }
} finally {
  await server.close();
}
