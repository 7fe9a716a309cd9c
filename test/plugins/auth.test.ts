import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { configError } from '../helpers/config.js';
import { keyMatcher } from '../../plugins/auth.js';
import { imagePart, multipart, testApp } from '../helpers/app.js';
import { backendFor, readFace } from '../helpers/fixtures.js';

const backend = await backendFor('scrfd_500m_mbf');
t.teardown(() => backend.close());

const dir = mkdtempSync(join(tmpdir(), 'lumen-face-keys-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const keysFile = join(dir, 'keys');
writeFileSync(keysFile, '# rotated monthly\nfile-key-1\r\n\n  file-key-2  \n');

const app = await testApp(t, { backend, env: { LUMEN_FACE_API_KEYS: 'env-key-1, env-key-2', LUMEN_FACE_API_KEYS_FILE: keysFile } });

t.test('keys from the list and from the file are accepted, as x-api-key or Bearer', async (t) => {
  for (const key of ['env-key-1', 'env-key-2', 'file-key-1', 'file-key-2']) {
    t.equal((await app.inject({ url: '/v1/info', headers: { 'x-api-key': key } })).statusCode, 200, `x-api-key ${key}`);
    t.equal((await app.inject({ url: '/v1/info', headers: { authorization: `Bearer ${key}` } })).statusCode, 200, `Bearer ${key}`);
  }
  const info = (await app.inject({ url: '/v1/info', headers: { 'x-api-key': 'env-key-1' } })).json();
  t.match(info.files.detection.path, /detection\.onnx$/, 'an authenticated caller sees the paths');
});

t.test('no key: 401 JSON with a Bearer challenge, on every route but probes and docs', async (t) => {
  const { payload, headers } = await multipart([imagePart(readFace('groups/t1.jpg'))]);
  const cases = [
    { method: 'GET' as const, url: '/v1/info' },
    { method: 'GET' as const, url: '/metrics' },
    { method: 'GET' as const, url: '/no/such/route' },
    { method: 'POST' as const, url: '/v1/faces', payload, headers },
    { method: 'POST' as const, url: '/v1/detect', payload, headers },
    { method: 'POST' as const, url: '/v1/embed', payload, headers },
  ];
  for (const request of cases) {
    const res = await app.inject(request);
    t.equal(res.statusCode, 401, request.url);
    t.same(res.json(), {
      statusCode: 401,
      code: 'UNAUTHORIZED',
      error: 'Unauthorized',
      message: 'this service needs an API key: send "x-api-key: KEY" or "Authorization: Bearer KEY"',
    });
    t.equal(res.headers['www-authenticate'], 'Bearer realm="lumen-face"');
    t.notMatch(res.body, /detection\.onnx|\/work\/|huggingface/, 'nothing about the pack leaks');
  }
  for (const url of ['/healthz', '/readyz', '/openapi.json', '/docs', '/docs/json', '/docs/static/swagger-initializer.js']) {
    t.equal((await app.inject(url)).statusCode, 200, `${url} is public`);
  }
});

t.test('a wrong key: 401 with error="invalid_token"', async (t) => {
  for (const headers of [
    { 'x-api-key': 'env-key-3' },
    { 'x-api-key': 'env-key-1x' },
    { 'x-api-key': 'env-key-' },
    { authorization: 'Bearer file-key-1 extra' },
    { authorization: 'Basic ZW52LWtleS0xOg==' },
    { 'x-api-key': 'env-key-1, env-key-2' },
  ]) {
    const res = await app.inject({ url: '/v1/info', headers });
    t.equal(res.statusCode, 401, JSON.stringify(headers));
    if (headers['x-api-key'] !== undefined || headers.authorization?.startsWith('Bearer')) {
      t.equal(res.headers['www-authenticate'], 'Bearer realm="lumen-face", error="invalid_token"');
      t.equal(res.json().message, 'the API key is not valid');
    }
  }
});

t.test('the matcher compares whole keys, whatever their length', async (t) => {
  const isKey = keyMatcher(['short', 'a-much-longer-key-0123456789']);
  t.ok(isKey('short'));
  t.ok(isKey('a-much-longer-key-0123456789'));
  for (const wrong of ['', 'shor', 'shortt', 'SHORT', 'a-much-longer-key-012345678', 'x'.repeat(10_000)])
    t.notOk(isKey(wrong), JSON.stringify(wrong.slice(0, 30)));
});

t.test('without keys every route is open', async (t) => {
  const open = await testApp(t, { backend });
  t.equal((await open.inject('/v1/info')).statusCode, 200);
  t.equal((await open.inject('/metrics')).statusCode, 200);
});

t.test('bad key settings stop the start, and never echo a key', async (t) => {
  const problem = (env: Record<string, string>) => configError(env)?.message ?? 'accepted';
  const spaced = problem({ LUMEN_FACE_API_KEYS: 'good-key,secret with space' });
  t.match(
    spaced,
    /LUMEN_FACE_API_KEYS is invalid: expected API keys of visible ASCII characters \(no spaces or commas\), but the key at position 2 is not; received "\(hidden\)"/,
  );
  t.notMatch(spaced, /secret|good-key/);
  t.match(problem({ LUMEN_FACE_API_KEYS: ' , ' }), /but there is no key/);
  t.match(
    problem({ LUMEN_FACE_API_KEYS_FILE: join(dir, 'missing') }),
    /LUMEN_FACE_API_KEYS_FILE is invalid: expected a readable file with one API key per line; reading it failed: ENOENT.*; received ".*missing"/,
  );
  const comments = join(dir, 'only-comments');
  writeFileSync(comments, '# nothing yet\n\n');
  t.match(problem({ LUMEN_FACE_API_KEYS_FILE: comments }), /but there is no key/);
  const spacedFile = join(dir, 'spaced');
  writeFileSync(spacedFile, 'ok-key\nfile secret\n');
  const fromFile = problem({ LUMEN_FACE_API_KEYS_FILE: spacedFile });
  t.match(fromFile, /but the key at line 2 is not/);
  t.notMatch(fromFile, /file secret/);
});
