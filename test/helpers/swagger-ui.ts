import { existsSync } from 'node:fs';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Drives Swagger UI (/docs) in headless Chromium, as a person trying /v1/embed would. */

const CHROMIUM_PATHS = ['/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'];
const candidates = () => (process.env.CHROMIUM ? [process.env.CHROMIUM] : CHROMIUM_PATHS);

export function chromiumPath(): string | undefined {
  return candidates().find((p) => existsSync(p));
}

/**
 * Whether this machine can run the browser tests. Without Chromium a test file is skipped with one line
 * saying how to run it; with CI=true a missing Chromium is a failure, so CI never skips them.
 */
export function chromiumOrSkip(t: { plan(n: number, why: string): void; fail(why: string): void }): boolean {
  if (chromiumPath() !== undefined) return true;
  const how = `no Chromium at ${candidates().join(', ')}: install it (apt-get install -y chromium) or set CHROMIUM=/path to run the browser tests`;
  if (process.env.CI === 'true') t.fail(`${how} (CI=true requires them)`);
  else t.plan(0, how);
  return false;
}

export async function launchChromium(): Promise<Browser> {
  const executablePath = chromiumPath();
  if (executablePath === undefined)
    throw new Error(`no Chromium at ${candidates().join(', ')}: install it with \`apt-get install -y chromium\` (.ci/run does)`);
  return puppeteer.launch({
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}

export interface EmbedTryOut {
  page: Page;
  /** The operation's block, for a screenshot. */
  selector: string;
  /** Whether the image field shows Swagger UI's "required" mark. */
  imageMarkedRequired: boolean;
  /** The value the boxes field starts with. */
  boxesValue: string;
  /** The message shown under a field after Execute without a file. */
  messageAfterExecute: string | null;
  /** Requests the page sent to the API when Execute was pressed. */
  apiRequests: string[];
}

/** Open /docs, expand POST /v1/embed, "Try it out", press Execute without choosing a file. */
export async function tryEmbedWithoutFile(browser: Browser, address: string): Promise<EmbedTryOut> {
  const page = await browser.newPage();
  await page.setViewport({ width: 1200, height: 900 });
  await page.goto(`${address}/docs/`, { waitUntil: 'networkidle0' });
  const selector = '#operations-faces-postEmbed';
  await page.waitForSelector(`${selector} .opblock-summary`);
  await page.click(`${selector} .opblock-summary`);
  await page.waitForSelector(`${selector} .try-out__btn`);
  await page.click(`${selector} .try-out__btn`);
  await page.waitForSelector(`${selector} .opblock-section-request-body input[type=file]`);

  // Swagger UI writes "required" with CSS after a name that has the `required` class.
  const fields = await page.$$eval(`${selector} .opblock-section-request-body .parameter__name`, (names) =>
    names.map((name) => {
      const row = name.closest('tr');
      return {
        // biome-ignore lint/performance/useDomNodeTextContent: the text a user sees; innerText leaves out what CSS hides
        name: ((name as HTMLElement).innerText.split(/\s/)[0] ?? '').replace('*', ''),
        required: name.classList.contains('required'),
        value: (row?.querySelector('input[type=text], textarea') as HTMLInputElement | null)?.value ?? null,
      };
    }),
  );
  const imageRow = fields.find((f) => f.name === 'image');
  const boxesRow = fields.find((f) => f.name === 'boxes');

  const apiRequests: string[] = [];
  page.on('request', (request) => {
    if (request.url().includes('/v1/')) apiRequests.push(`${request.method()} ${request.url()}`);
  });
  await page.click(`${selector} .execute`);
  const message = await page
    .waitForSelector(`${selector} .lumen-field-error`, { timeout: 5000 })
    // biome-ignore lint/performance/useDomNodeTextContent: the text a user sees; innerText leaves out what CSS hides
    .then((element) => element?.evaluate((e) => (e as HTMLElement).innerText) ?? null)
    .catch(() => null);
  return {
    page,
    selector,
    imageMarkedRequired: imageRow?.required === true,
    boxesValue: boxesRow?.value ?? '(no boxes field)',
    messageAfterExecute: message,
    apiRequests,
  };
}

/** After tryEmbedWithoutFile: choose `photo` and press Execute; the names of the form fields sent. */
export async function executeEmbedWithFile(tried: EmbedTryOut, photo: string): Promise<string[]> {
  const { page, selector } = tried;
  const input = await page.$(`${selector} input[type=file]`);
  if (!input) throw new Error('no file input');
  await input.uploadFile(photo);
  const sent = page.waitForRequest((r) => r.url().includes('/v1/embed') && r.method() === 'POST');
  await page.click(`${selector} .execute`);
  const body = (await (await sent).fetchPostData()) ?? '';
  return [...body.matchAll(/Content-Disposition: form-data; name="([^"]+)"/g)].map((m) => m[1]);
}
