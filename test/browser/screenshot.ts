import { buildApp } from '../../app.js';
import { loadConfig } from '../../src/config.js';
import { launchChromium, tryEmbedWithoutFile } from '../helpers/swagger-ui.js';

/** `npm run docs:screenshot`: docs/swagger-ui.png, /v1/embed in Swagger UI after Execute without a file. */

const target = new URL('../../../docs/swagger-ui.png', import.meta.url);
const app = await buildApp({
  config: loadConfig({ LUMEN_FACE_OFFLINE: '1', LUMEN_FACE_LOCAL_DIR: '/nonexistent', LUMEN_FACE_LOG_LEVEL: 'silent' }),
  logger: false,
});
const address = await app.listen({ host: '127.0.0.1', port: 0 });
const browser = await launchChromium();
try {
  const { page, selector } = await tryEmbedWithoutFile(browser, address);
  // The request half of the block: the documented responses below it are the same as on any page.
  await page.addStyleTag({ content: `${selector} .responses-wrapper { display: none !important; }` });
  const block = await page.$(selector);
  if (!block) throw new Error('the /v1/embed block is not on the page');
  await block.screenshot({ path: target.pathname as `${string}.png` });
  process.stdout.write(`wrote ${target.pathname}\n`);
} finally {
  await browser.close();
  await app.close();
}
