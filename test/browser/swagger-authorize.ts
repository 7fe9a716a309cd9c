import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import puppeteer, { type Page } from 'puppeteer-core';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../src/config.js';
import { MODELS_DIR, REPO_ROOT } from '../helpers/fixtures.js';

/**
 * `npm run browser`: Swagger UI's "Authorize" in a real headless Chromium against a real server with
 * API keys. Without a key "Try it out" gets 401; after Authorize it gets 200, and the server saw the key.
 * Saves docs/swagger-authorize.png for the README. Needs Chromium (CHROMIUM=/path, default /usr/bin/chromium).
 */

const KEY = 'browser-check-key-5d1e';
const config = loadConfig({
  LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
  LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf',
  LUMEN_FACE_PRECISION: 'fp32',
  LUMEN_FACE_OFFLINE: '1',
  LUMEN_FACE_WORKERS: '1',
  LUMEN_FACE_API_KEYS: KEY,
  LUMEN_FACE_LOG_LEVEL: 'silent',
});
const app = await buildApp({ config });
const seen: string[] = [];
app.addHook('onResponse', async (request, reply) => {
  if (request.url === '/v1/info') seen.push(`${reply.statusCode} ${request.headers['x-api-key'] === KEY ? 'with key' : 'without key'}`);
});
await app.listen({ host: '127.0.0.1', port: 0 });
await app.faceBackend.loaded;
const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
});

async function tryInfo(page: Page, clear = true): Promise<string> {
  const execute = await page.waitForSelector('#operations-service-get_v1_info .btn.execute');
  await execute!.click();
  const status = await page.waitForSelector('#operations-service-get_v1_info .live-responses-table tr.response .response-col_status');
  const text = (await status!.evaluate((el) => el.textContent ?? '')).trim();
  if (clear) await (await page.waitForSelector('#operations-service-get_v1_info .btn-clear'))!.click();
  return text;
}

const failures: string[] = [];
const expect = (ok: boolean, what: string) => {
  process.stdout.write(`${ok ? 'ok' : 'NOT OK'} - ${what}\n`);
  if (!ok) failures.push(what);
};

try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto(`${base}/docs`, { waitUntil: 'networkidle0' });

  await (await page.waitForSelector('#operations-service-get_v1_info .opblock-summary'))!.click();
  await (await page.waitForSelector('#operations-service-get_v1_info .try-out__btn'))!.click();
  const before = await tryInfo(page);
  expect(before === '401', `without a key, Try it out gets 401 (got ${before})`);

  await (await page.waitForSelector('.auth-wrapper .btn.authorize'))!.click();
  const input = await page.waitForSelector('.modal-ux .auth-container input[type="text"]');
  await input!.type(KEY);
  await (await page.waitForSelector('.modal-ux .auth-container .btn.modal-btn.auth.authorize'))!.click();
  await page.waitForSelector('.modal-ux .auth-container .btn.modal-btn.auth:not(.authorize)'); // "Logout" once authorised
  const schemes = await page.$$eval('.modal-ux .auth-container h4', (els) => els.map((el) => el.textContent ?? ''));
  expect(schemes.some((s) => s.includes('apiKey')) && schemes.some((s) => s.includes('bearer')), `both schemes offered (${schemes.join(', ')})`);
  await (await page.waitForSelector('.modal-ux .btn-done'))!.click();

  const after = await tryInfo(page, false);
  expect(after === '200', `after Authorize, Try it out gets 200 (got ${after})`);
  const summary = await page.$('#operations-service-get_v1_info');
  await summary!.evaluate((el) => el.scrollIntoView());
  mkdirSync(`${REPO_ROOT}/docs`, { recursive: true });
  await page.screenshot({ path: `${REPO_ROOT}/docs/swagger-authorize.png` });
  expect(seen[0] === '401 without key' && seen[1] === '200 with key', `the server saw: ${seen.join('; ')}`);
} finally {
  await browser.close();
  await app.close();
}
if (failures.length > 0) process.exit(1);
process.stdout.write('saved docs/swagger-authorize.png\n');
