import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { SECRET_NAMES, VARIABLES } from '../../../src/config.js';
import { lumenFace } from '../../helpers/cli.js';
import { startChild } from '../../helpers/server-child.js';
import { MODELS_DIR, TEST_ENGINE } from '../../helpers/fixtures.js';

/**
 * Every secret variable set to a value of its own, then every printer searched for those values: the
 * server's log from start-up to shutdown, GET /v1/info, `lumen-face check`, `lumen-face info`, and the
 * messages of a failing command and of an invalid configuration.
 */

const dir = mkdtempSync(join(tmpdir(), 'lumen-face-secrets-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

// A distinctive value per secret name, plus keys that only the key file holds.
const SECRETS: Record<string, string> = Object.fromEntries(SECRET_NAMES.map((name, i) => [name, `sekrit${i}-${name.toLowerCase().replace(/_/g, '')}-x9q`]));
const FILE_KEY = 'sekrit-from-file-k3y-7w2';
const keyFile = join(dir, 'keys');
writeFileSync(keyFile, `# mounted secret\n${FILE_KEY}\n`);
const KEY = SECRETS.LUMEN_FACE_API_KEYS;
const VALUES = [...Object.values(SECRETS), FILE_KEY];

const ENV = {
  ...SECRETS,
  ...TEST_ENGINE,
  LUMEN_FACE_API_KEYS_FILE: keyFile,
  LUMEN_FACE_WORKERS: '1',
  LUMEN_FACE_LOG_LEVEL: 'trace',
  LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
  LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf',
  LUMEN_FACE_PRECISION: 'fp32',
  LUMEN_FACE_OFFLINE: '1',
  LUMEN_FACE_CACHE_DIR: join(dir, 'cache'),
};

function assertHidden(t: { notOk(v: unknown, m: string): unknown }, output: string, where: string) {
  for (const value of VALUES) t.notOk(output.includes(value), `${where} does not show ${value}`);
}

t.test('the table marks the API keys and the Hugging Face token as secret', async (t) => {
  t.same([...SECRET_NAMES].sort(), ['HF_TOKEN', 'LUMEN_FACE_API_KEYS', 'LUMEN_FACE_HF_TOKEN']);
  t.ok(VARIABLES.apiKeys.secret && VARIABLES.hfToken.secret);
  t.notOk(VARIABLES.apiKeysFile.secret, 'the key file path is not secret; the keys it holds are never printed');
});

t.test('the server log, at trace, and GET /v1/info', async (t) => {
  const server = await startChild({ ...ENV, LUMEN_FACE_PORT: '0' });
  t.teardown(() => server.stop());
  const { address } = server;
  const info = await fetch(`${address}/v1/info`, { headers: { 'x-api-key': KEY, cookie: `c=${KEY}` } });
  t.equal(info.status, 200);
  assertHidden(t, await info.text(), 'GET /v1/info');
  t.equal((await fetch(`${address}/v1/info`, { headers: { authorization: `Bearer ${FILE_KEY}` } })).status, 200, 'a key from the file works');
  t.equal((await fetch(`${address}/v1/nothing`, { headers: { 'x-api-key': KEY } })).status, 404);
  server.child.kill('SIGTERM');
  t.same(await server.exited, { code: 0, signal: null });
  t.match(server.output(), /"msg":"ready"/);
  assertHidden(t, server.output(), 'the server log');
});

t.test('lumen-face check and info', async (t) => {
  const check = await lumenFace(['check'], ENV);
  t.equal(check.code, 0, check.stderr);
  t.match(check.stdout, 'LUMEN_FACE_API_KEYS=(set)');
  t.match(check.stdout, 'LUMEN_FACE_HF_TOKEN=(set)');
  t.match(check.stdout, `LUMEN_FACE_API_KEYS_FILE=${keyFile}`);
  assertHidden(t, check.stdout + check.stderr, 'lumen-face check');
  const info = await lumenFace(['info'], ENV);
  t.equal(info.code, 0, info.stderr);
  t.match(JSON.parse(info.stdout), { model: { name: 'scrfd_500m_mbf' } });
  assertHidden(t, info.stdout + info.stderr, 'lumen-face info');
});

t.test('a failing command and an invalid configuration', async (t) => {
  const missing = await lumenFace(['check', '--model', 'absent'], ENV);
  t.equal(missing.code, 1);
  t.match(missing.stderr, /could not be found/);
  assertHidden(t, missing.stdout + missing.stderr, 'a failing check');
  const invalid = await lumenFace(['info'], { ...ENV, LUMEN_FACE_API_KEYS: `${KEY}, bad key`, LUMEN_FACE_PORT: 'x' });
  t.equal(invalid.code, 2);
  t.match(
    invalid.stderr,
    'LUMEN_FACE_API_KEYS is invalid: expected API keys of visible ASCII characters (no spaces or commas), but the key at position 2 is not; received "(hidden)"',
  );
  assertHidden(t, invalid.stdout + invalid.stderr, 'a configuration error');
});
