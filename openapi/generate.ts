import { readFileSync, writeFileSync } from 'node:fs';
import { openapiDocument } from './document.js';
import { withErrorTable } from './error-table.js';

/** `npm run openapi`: regenerate openapi/openapi.json from the app, and the README's error table. */
const target = new URL('../../openapi/openapi.json', import.meta.url);
writeFileSync(target, await openapiDocument());
process.stdout.write(`wrote ${target.pathname}\n`);

const readme = new URL('../../README.md', import.meta.url);
writeFileSync(readme, withErrorTable(readFileSync(readme, 'utf8')));
process.stdout.write(`wrote the error table of ${readme.pathname}\n`);
