import { buildApp } from '../app.js';
import { loadConfig } from '../src/config.js';

/**
 * The OpenAPI document of the app, built without loading any model. The committed
 * openapi/openapi.json is this, pretty-printed; a test keeps the two in sync.
 */
export async function openapiDocument(): Promise<string> {
  const app = await buildApp({ config: loadConfig({ LUMEN_FACE_OFFLINE: '1', LUMEN_FACE_LOCAL_DIR: '/nonexistent' }), logger: false });
  await app.ready();
  const document = app.swagger();
  await app.close();
  return `${JSON.stringify(document, null, 2)}\n`;
}
