import t from 'tap';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../src/config.js';
import { FACES_DIR } from '../helpers/fixtures.js';
import { chromiumOrSkip, executeEmbedWithFile, launchChromium, tryEmbedWithoutFile } from '../helpers/swagger-ui.js';

/**
 * Swagger UI in headless Chromium: "Try it out" on /v1/embed starts with no boxes, marks the image
 * required, and pressing Execute without a file says so instead of doing nothing. No model is
 * needed for the page, so the app runs without one.
 */

if (chromiumOrSkip(t)) {
  const app = await buildApp({
    config: loadConfig({ LUMEN_FACE_OFFLINE: '1', LUMEN_FACE_LOCAL_DIR: '/nonexistent', LUMEN_FACE_LOG_LEVEL: 'silent' }),
    logger: false,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const browser = await launchChromium();
  t.teardown(async () => {
    await browser.close();
    await app.close();
  });

  t.test('/v1/embed in Swagger UI: no prefilled boxes, image required, a message when it is missing', async (t) => {
    const tried = await tryEmbedWithoutFile(browser, address);
    t.equal(tried.boxesValue, '', 'boxes starts empty, so Execute embeds the whole image');
    t.ok(tried.imageMarkedRequired, 'the image is marked required');
    t.equal(tried.messageAfterExecute, 'Choose a file: this field is required.');
    t.same(tried.apiRequests, [], 'nothing is sent without the image');
    const fields = await executeEmbedWithFile(tried, `${FACES_DIR}/identities/Angelina_Jolie/01.jpg`);
    t.same(fields, ['image'], 'with a photo chosen, Execute sends the image alone: the whole image is embedded');
  });
}
