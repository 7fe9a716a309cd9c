import t from 'tap';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../src/config.js';
import { MODELS_DIR } from '../helpers/fixtures.js';
import { chromiumOrSkip, launchChromium } from '../helpers/swagger-ui.js';

/**
 * POST /v1/verify in Swagger UI, in headless Chromium: switching the body to application/json shows a
 * JSON example with the loaded model's dimension, and Execute sends it and gets a verdict.
 */

if (chromiumOrSkip(t)) {
  const app = await buildApp({
    config: loadConfig({
      LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
      LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf',
      LUMEN_FACE_PRECISION: 'fp32',
      LUMEN_FACE_OFFLINE: '1',
      LUMEN_FACE_LOG_LEVEL: 'silent',
      LUMEN_FACE_WORKERS: '1',
    }),
    logger: false,
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  while (app.faceBackend.state.status === 'loading') await new Promise((r) => setTimeout(r, 50));
  const browser = await launchChromium();
  t.teardown(async () => {
    await browser.close();
    await app.close();
  });

  const op = '#operations-faces-postVerify';
  const select = `${op} .opblock-section-request-body select`;

  /** A page on Swagger UI with /v1/verify open in "Try it out" and its body switched to JSON; page errors are collected. */
  async function verifyAsJson() {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    await page.setViewport({ width: 1200, height: 1600 });
    await page.goto(`${address}/docs/`, { waitUntil: 'networkidle0' });
    await page.click(`${op} .opblock-summary`);
    await page.waitForSelector(`${op} .try-out__btn`);
    await page.click(`${op} .try-out__btn`);
    await page.waitForSelector(select);
    await page.select(select, 'application/json');
    await page.waitForSelector(`${op} .opblock-section-request-body textarea`);
    return { page, errors };
  }

  t.test("the JSON body of /v1/verify starts from a valid example of the model's dimension, and Execute sends it", async (t) => {
    const dim = app.faceBackend.get().info().model.dim;
    const { page } = await verifyAsJson();
    const text = await page.$eval(`${op} .opblock-section-request-body textarea`, (x) => (x as HTMLTextAreaElement).value);
    let body: { embedding1?: number[]; embedding2?: number[] } = {};
    t.doesNotThrow(() => (body = JSON.parse(text)), 'the editor holds JSON');
    t.same(Object.keys(body), ['embedding1', 'embedding2'], "the two embeddings, not Swagger UI's form state");
    t.equal(body.embedding1?.length, dim, `embedding1 has ${dim} values, the model's dimension`);
    t.equal(body.embedding2?.length, dim);

    const sent = new Promise<{ body: string | undefined; type: string | undefined }>((resolve) =>
      page.on('request', (r) => {
        if (r.url().endsWith('/v1/verify')) resolve({ body: r.postData(), type: r.headers()['content-type'] });
      }),
    );
    const answered = page.waitForResponse((r) => r.url().endsWith('/v1/verify'));
    await page.click(`${op} .execute`);
    const request = await sent;
    t.match(request.type, /^application\/json/);
    t.same(JSON.parse(request.body ?? 'null'), body, 'Execute sends what the editor shows');
    const response = await answered;
    t.equal(response.status(), 200);
    const verdict = await response.json();
    t.equal(typeof verdict.similarity, 'number');
    t.same(verdict.faces, []);
    await page.$eval(`${op} .responses-wrapper`, (e) => e.scrollIntoView());
    const shot = `${process.env.TMPDIR ?? '/tmp'}/swagger-verify.png`;
    await (await page.$(op))!.screenshot({ path: shot });
    t.comment(`screenshot: ${shot}`);
  });

  t.test('switching back and forth keeps both bodies usable', async (t) => {
    const { page, errors } = await verifyAsJson();
    await page.select(select, 'multipart/form-data');
    await page.waitForSelector(`${op} .opblock-section-request-body input[type=file]`);
    t.equal((await page.$$(`${op} .opblock-section-request-body input[type=file]`)).length, 2, 'the form shows image1 and image2 again');
    await page.select(select, 'application/json');
    await page.waitForSelector(`${op} .opblock-section-request-body textarea`);
    const text = await page.$eval(`${op} .opblock-section-request-body textarea`, (x) => (x as HTMLTextAreaElement).value);
    t.same(Object.keys(JSON.parse(text)), ['embedding1', 'embedding2']);
    t.same(errors, [], 'no error in the page');
  });
}
