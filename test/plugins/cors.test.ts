import t from 'tap';
import { hostName } from '../../plugins/hosts.js';
import { loadConfig } from '../../src/config.js';
import { testApp } from '../helpers/app.js';
import { backendFor } from '../helpers/fixtures.js';

const backend = await backendFor('scrfd_500m_mbf');
t.teardown(() => backend.close());

const preflight = (origin: string) => ({
  method: 'OPTIONS' as const,
  url: '/v1/faces',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'x-api-key, content-type' },
});

t.test('CORS unset: no CORS header at all, and no preflight answer', async (t) => {
  const app = await testApp(t, { backend });
  const res = await app.inject({ url: '/v1/info', headers: { origin: 'https://photos.example.com' } });
  t.equal(res.statusCode, 200);
  t.same(
    Object.keys(res.headers).filter((h) => h.startsWith('access-control-')),
    [],
  );
  const pre = await app.inject(preflight('https://photos.example.com'));
  t.equal(pre.statusCode, 405, 'no preflight answer: OPTIONS is a method /v1/faces does not serve');
  t.equal(pre.headers.allow, 'POST');
  t.notOk(pre.headers['access-control-allow-origin']);
});

t.test('CORS with a list: listed origins only; the preflight passes before the key check', async (t) => {
  const app = await testApp(t, {
    backend,
    env: { LUMEN_FACE_CORS_ORIGINS: 'https://photos.example.com, http://localhost:3000', LUMEN_FACE_API_KEYS: 'k-1' },
  });
  const pre = await app.inject(preflight('https://photos.example.com'));
  t.equal(pre.statusCode, 204);
  t.equal(pre.headers['access-control-allow-origin'], 'https://photos.example.com');
  t.match(pre.headers['access-control-allow-headers'], /x-api-key/);
  t.match(pre.headers['access-control-allow-methods'], /POST/);
  t.equal((await app.inject(preflight('http://localhost:3000'))).headers['access-control-allow-origin'], 'http://localhost:3000');
  const stranger = await app.inject(preflight('https://evil.example'));
  t.notOk(stranger.headers['access-control-allow-origin'], 'an unlisted origin gets no allow-origin');

  const res = await app.inject({ url: '/v1/info', headers: { origin: 'https://photos.example.com', 'x-api-key': 'k-1' } });
  t.equal(res.statusCode, 200);
  t.equal(res.headers['access-control-allow-origin'], 'https://photos.example.com');
  t.match(res.headers['access-control-expose-headers'], /x-request-id/);
  t.notOk(res.headers['access-control-allow-credentials'], 'keys travel in headers, never cookies');
  const denied = await app.inject({ url: '/v1/info', headers: { origin: 'https://photos.example.com' } });
  t.equal(denied.statusCode, 401);
  t.equal(denied.headers['access-control-allow-origin'], 'https://photos.example.com', 'the page can read why it failed');
});

t.test('CORS *: any origin', async (t) => {
  const app = await testApp(t, { backend, env: { LUMEN_FACE_CORS_ORIGINS: '*' } });
  t.equal((await app.inject(preflight('https://anything.example'))).headers['access-control-allow-origin'], '*');
  t.equal((await app.inject({ url: '/healthz', headers: { origin: 'https://x.example' } })).headers['access-control-allow-origin'], '*');
});

t.test('bad CORS origins are refused at start-up', async (t) => {
  t.throws(
    () => loadConfig({ LUMEN_FACE_CORS_ORIGINS: 'photos.example.com' }),
    /LUMEN_FACE_CORS_ORIGINS is invalid: expected `\*` or comma-separated origins.*, but "photos.example.com" is not one; received "photos.example.com"/,
  );
  t.throws(() => loadConfig({ LUMEN_FACE_CORS_ORIGINS: 'https://photos.example.com/app' }), /but "https:\/\/photos.example.com\/app" is not one/);
  t.same(loadConfig({ LUMEN_FACE_CORS_ORIGINS: 'https://Photos.Example.com:8443' }).corsOrigins, ['https://photos.example.com:8443']);
});

t.test('allowed hosts: the name is matched without the port; others get 421; probes answer any Host', async (t) => {
  const app = await testApp(t, { backend, env: { LUMEN_FACE_ALLOWED_HOSTS: 'localhost, Photos.LAN, ::1' } });
  for (const host of ['localhost', 'localhost:8000', 'photos.lan:80', 'PHOTOS.LAN.', '[::1]:8000']) {
    t.equal((await app.inject({ url: '/v1/info', headers: { host } })).statusCode, 200, host);
  }
  for (const host of ['evil.example', 'evil.example:8000', 'localhost.evil.example', '127.0.0.1:8000']) {
    const res = await app.inject({ url: '/v1/info', headers: { host } });
    t.equal(res.statusCode, 421, JSON.stringify(host));
    t.equal(res.json().code, 'MISDIRECTED_REQUEST');
    t.equal(res.json().error, 'Misdirected Request');
  }
  t.equal((await app.inject({ url: '/no/route', headers: { host: 'evil.example' } })).statusCode, 421, 'unknown routes too');
  for (const url of ['/healthz', '/readyz']) t.equal((await app.inject({ url, headers: { host: '10.1.2.3:8000' } })).statusCode, 200, url);
});

t.test('host names are parsed without port, case or trailing dot', async (t) => {
  t.equal(hostName('Example.COM:8000'), 'example.com');
  t.equal(hostName('example.com.'), 'example.com');
  t.equal(hostName('[::1]:8000'), '[::1]');
  t.equal(hostName('[::1]'), '[::1]');
  t.same(loadConfig({ LUMEN_FACE_ALLOWED_HOSTS: 'a.lan,::1,[fe80::1]' }).allowedHosts, ['a.lan', '[::1]', '[fe80::1]']);
  t.throws(
    () => loadConfig({ LUMEN_FACE_ALLOWED_HOSTS: 'photos.lan:8000' }),
    /LUMEN_FACE_ALLOWED_HOSTS is invalid: expected comma-separated host names without port.*; received "photos.lan:8000"/,
  );
  t.throws(() => loadConfig({ LUMEN_FACE_ALLOWED_HOSTS: 'https://photos.lan' }), /is invalid/);
});
