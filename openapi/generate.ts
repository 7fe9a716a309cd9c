import { readFileSync, writeFileSync } from 'node:fs';
import { openapiDocument } from './document.js';
import { withErrorTable } from './error-table.js';

/** `npm run openapi`: regenerate openapi/openapi.json from the app, and the error table of docs/api.md. */
const target = new URL('../../openapi/openapi.json', import.meta.url);
writeFileSync(target, await openapiDocument());
process.stdout.write(`wrote ${target.pathname}\n`);

const api = new URL('../../docs/api.md', import.meta.url);
writeFileSync(api, withErrorTable(readFileSync(api, 'utf8')));
process.stdout.write(`wrote the error table of ${api.pathname}\n`);
