import { writeFileSync } from 'node:fs';
import { openapiDocument } from './document.js';

/** `npm run openapi`: regenerate openapi/openapi.json from the app. */
const target = new URL('../../openapi/openapi.json', import.meta.url);
writeFileSync(target, await openapiDocument());
process.stdout.write(`wrote ${target.pathname}\n`);
