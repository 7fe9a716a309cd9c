import t from 'tap';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../src/config.js';
import { ERROR_CODES } from '../../src/errors.js';

/** Error responses only ever carry a code of the table, the enum the document promises. */

const app = await buildApp({
  config: loadConfig({ LUMEN_FACE_OFFLINE: '1', LUMEN_FACE_LOCAL_DIR: '/nonexistent', LUMEN_FACE_LOG_LEVEL: 'silent' }),
  logger: false,
});
await app.ready();
t.teardown(() => app.close());

t.test("a Fastify client error outside the table is a BAD_REQUEST, not Fastify's own code", async (t) => {
  const res = await app.inject({ method: 'POST', url: '/v1/faces', headers: { 'content-type': 'application/json' }, payload: '{not json' });
  t.equal(res.statusCode, 400);
  t.match(res.json(), { statusCode: 400, code: 'BAD_REQUEST', error: 'Bad Request', message: /JSON/ });
});

t.test('every error answered here has a code of the table', async (t) => {
  const requests = [
    app.inject({ method: 'POST', url: '/v1/faces', headers: { 'content-type': 'text/plain' }, payload: 'x' }),
    app.inject({ url: '/v1/info?unknown=1' }),
    app.inject({ url: '/nowhere' }),
    app.inject({ url: '/v1/info' }),
  ];
  for (const res of await Promise.all(requests)) {
    t.ok(res.json().code in ERROR_CODES, `${res.statusCode} ${res.json().code}`);
  }
});
