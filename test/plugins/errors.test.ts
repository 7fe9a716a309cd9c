import t from 'tap';
import { freePort } from '../../bench/servers.js';
import { startChild } from '../helpers/server-child.js';

/**
 * Level error is for our own faults: a photo URL whose server cannot be reached (the client's choice) is
 * a 502 logged as one warn line without a stack, against the real server's own log.
 */

t.test('a URL fetch that fails is one warn line, no stack, no error level', async (t) => {
  const closed = await freePort();
  const server = await startChild({
    LUMEN_FACE_URL_FETCH_ALLOW: `http://127.0.0.1:${closed}`,
    LUMEN_FACE_URL_FETCH_ALLOW_PRIVATE: '127.0.0.1/32',
    LUMEN_FACE_LOG_LEVEL: 'info',
  });
  t.teardown(() => server.stop());
  const res = await fetch(`${server.address}/v1/faces`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ url: `http://127.0.0.1:${closed}/a.jpg` }),
  });
  const body = (await res.json()) as { code: string };
  t.equal(res.status, 502);
  t.equal(body.code, 'URL_FETCH_FAILED');
  await new Promise((r) => setTimeout(r, 200));
  const lines = server
    .output()
    .split('\n')
    .filter((l) => l.includes('URL_FETCH_FAILED'));
  t.ok(lines.length >= 1, 'it is logged');
  const warn = lines.map((l) => JSON.parse(l) as { level: number; msg: string; err?: unknown }).find((l) => l.level === 40);
  t.ok(warn, 'at warn');
  t.notMatch(server.output(), /"level":50/, 'nothing at error level');
  t.notMatch(server.output(), /"stack"/, 'no stack');
});
