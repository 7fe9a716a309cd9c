import { spawn } from 'node:child_process';
import t from 'tap';
import { MODELS_DIR } from '../helpers/fixtures.js';
import { loggerOptions, withRedaction } from '../../server/logger.js';

/** Keys and cookies are redacted by the logger the server really starts with, in both log formats. */

const SCRIPT = new URL('./fixtures/start-and-log.js', import.meta.url).pathname;
const KEY = 'key-4d7e1a-never-logged';
const COOKIE = 'session=cookie-9b2c5f-never-logged';

function run(format: 'json' | 'pretty'): Promise<{ code: number | null; output: string }> {
  const headers = { 'x-api-key': KEY, authorization: `Bearer ${KEY}`, cookie: COOKIE, 'user-agent': 'redaction-test' };
  const child = spawn(process.execPath, [SCRIPT, JSON.stringify(headers)], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LUMEN_FACE_LOG_FORMAT: format,
      LUMEN_FACE_PORT: '0',
      LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
      LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf',
      LUMEN_FACE_PRECISION: 'fp32',
      LUMEN_FACE_OFFLINE: '1',
      LUMEN_FACE_WORKERS: '1',
      LUMEN_FACE_API_KEYS: KEY,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let signalled = false;
  child.stdout.on('data', (d) => {
    output += d;
    if (!signalled && /^logged$/m.test(output)) signalled = child.kill('SIGTERM');
  });
  child.stderr.on('data', (d) => (output += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, output })));
}

for (const format of ['json', 'pretty'] as const) {
  t.test(`${format} logs of the real start-up path redact keys and cookies`, async (t) => {
    const { code, output } = await run(format);
    t.equal(code, 0, output);
    t.match(output, /a line with bare headers/);
    t.match(output, /redaction-test/, 'other headers are logged');
    t.match(output, /\[redacted\]/);
    t.notOk(output.includes(KEY), 'no key in the log');
    t.notOk(output.includes('cookie-9b2c5f'), 'no cookie in the log');
  });
}

t.test('redaction is merged into any logger options, never replaced', async (t) => {
  const merged = withRedaction({ level: 'debug', redact: { paths: ['body.password'], censor: 'X' } });
  t.match(merged, { level: 'debug', redact: { censor: 'X' } });
  const paths = (merged as { redact: { paths: string[] } }).redact.paths;
  t.ok(paths.includes('body.password') && paths.includes('req.headers["x-api-key"]') && paths.includes('req.headers.cookie'));
  t.match(withRedaction(true), { redact: { paths: ['req.headers.authorization'] } });
  t.equal(withRedaction(false), false, 'no logger stays no logger');
  for (const logFormat of ['json', 'pretty'] as const) {
    t.match(loggerOptions({ logFormat, logLevel: 'info' }), { level: 'info', redact: { censor: '[redacted]' } }, logFormat);
  }
});
