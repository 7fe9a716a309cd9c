import http from 'node:http';
import t from 'tap';
import { testApp } from '../helpers/app.js';
import { backendFor, TEST_ENGINE } from '../helpers/fixtures.js';

/**
 * Every method on a path that exists, other than the ones it serves, is a 405 in the one JSON shape with
 * an `Allow` header, over a real socket: OPTIONS (when CORS is off), WebDAV's PROPFIND and SEARCH, TRACE,
 * and the rest Node accepts. A path that does not exist stays 404, and with CORS on a preflight still
 * gets its 204.
 */

const backend = await backendFor('scrfd_500m_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());

interface Seen {
  status: number;
  allow: string | undefined;
  type: string | undefined;
  body: string;
}

function send(base: string, method: string, path: string, headers: Record<string, string> = {}): Promise<Seen> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}${path}`, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, allow: res.headers.allow, type: res.headers['content-type'], body }));
    });
    req.on('error', reject);
    req.end();
  });
}

const OTHER_METHODS = [
  'OPTIONS',
  'PROPFIND',
  'SEARCH',
  'PROPPATCH',
  'MKCOL',
  'COPY',
  'MOVE',
  'LOCK',
  'UNLOCK',
  'TRACE',
  'REPORT',
  'MKCALENDAR',
  'PUT',
  'DELETE',
  'PATCH',
  'PURGE',
  'LINK',
  'UNLINK',
];

t.test('other methods on existing paths get 405 with Allow and our JSON error (CORS off)', async (t) => {
  const app = await testApp(t, { backend });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const paths: Array<[string, RegExp]> = [
    ['/v1/faces', /^POST$/],
    ['/v1/faces/batch', /^POST$/],
    ['/v1/detect', /^POST$/],
    ['/v1/verify', /^POST$/],
    ['/v1/info', /^GET, HEAD$/],
    ['/healthz', /^GET, HEAD$/],
    ['/metrics', /^GET, HEAD$/],
  ];
  for (const [path, allow] of paths) {
    for (const method of OTHER_METHODS) {
      const seen = await send(base, method, `${path}?x=1`);
      t.equal(seen.status, 405, `${method} ${path}: 405`);
      t.match(seen.allow, allow, `${method} ${path}: Allow names what the path serves`);
      t.match(seen.type, /application\/json/, `${method} ${path}: JSON`);
      t.match(JSON.parse(seen.body), {
        statusCode: 405,
        code: 'METHOD_NOT_ALLOWED',
        message: new RegExp(`${method} is not allowed on ${path.replace(/\//g, '\\/')}`),
      });
    }
  }
  const none = await send(base, 'PROPFIND', '/v1/nothing');
  t.equal(none.status, 404, 'a path that does not exist stays 404');
  t.equal(JSON.parse(none.body).code, 'NOT_FOUND');
});

t.test('with CORS on, a preflight still gets 204 and other methods still get 405', async (t) => {
  const app = await testApp(t, { backend, env: { LUMEN_FACE_CORS_ORIGINS: 'https://photos.example' } });
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const preflight = await send(base, 'OPTIONS', '/v1/faces', { origin: 'https://photos.example', 'access-control-request-method': 'POST' });
  t.equal(preflight.status, 204);
  const propfind = await send(base, 'PROPFIND', '/v1/faces');
  t.equal(propfind.status, 405);
  t.equal(propfind.allow, 'POST');
  t.equal(JSON.parse(propfind.body).code, 'METHOD_NOT_ALLOWED');
});
