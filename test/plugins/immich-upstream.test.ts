import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import { freePort } from '../../bench/servers.js';
import { startChild } from '../helpers/server-child.js';

/**
 * Level error is for our own faults: an immich ML upstream that fails (answers 500, answers too much, never
 * answers, cannot be reached) is the operator's other server, so each forwarded request it fails is a 502 or
 * 504 logged as one warn line without a stack, against the real server's own log. The upstream is a stand-in
 * on 127.0.0.1.
 */

type Mode = 'fail' | 'huge' | 'hang';
let mode: Mode = 'fail';
const hanging: ServerResponse[] = [];
const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (mode === 'hang') return void hanging.push(res);
    if (mode === 'huge') return void res.writeHead(200, { 'content-type': 'application/json' }).end(`{"clip":"${'1'.repeat(64 * 1024)}"}`);
    res.writeHead(500, { 'content-type': 'application/json' }).end('{"detail":"Internal Server Error"}');
  });
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
t.teardown(() => {
  for (const res of hanging) res.destroy();
  upstream.closeAllConnections();
  upstream.close();
});
const upstreamUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

const clipText = JSON.stringify({ clip: { textual: { modelName: 'ViT-B-32__openai', options: { language: 'en-US' } } } });

async function predict(base: string): Promise<{ status: number; code: string; requestId: string }> {
  const form = new FormData();
  form.append('entries', clipText);
  form.append('text', 'a dog on a beach');
  const res = await fetch(`${base}/predict`, { method: 'POST', body: form });
  const body = (await res.json()) as { code: string };
  return { status: res.status, code: body.code, requestId: res.headers.get('x-request-id') ?? '' };
}

interface Line {
  level: number;
  msg: string;
  reqId?: string;
  err?: unknown;
  code?: string;
}

/** The log lines of one request, once its own request line is written. */
async function linesOf(output: () => string, requestId: string): Promise<Line[]> {
  for (let i = 0; i < 100 && !output().includes(`"reqId":"${requestId}"`); i++) await new Promise((r) => setTimeout(r, 20));
  return output()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line)
    .filter((l) => l.reqId === requestId);
}

async function checkLogged(t: Test, output: () => string, seen: { status: number; code: string; requestId: string }, status: number, code: string) {
  t.equal(seen.status, status, `${code}: ${status}`);
  t.equal(seen.code, code);
  const lines = await linesOf(output, seen.requestId);
  const about = lines.filter((l) => l.code === code && l.msg !== 'request');
  t.equal(about.length, 1, `${code}: one line says what failed`);
  t.equal(about[0]?.level, 40, `${code}: at warn level`);
  t.same(
    lines.filter((l) => l.level >= 50).map((l) => l.msg),
    [],
    `${code}: nothing at error level`,
  );
  t.same(
    lines.filter((l) => l.err !== undefined).map((l) => l.msg),
    [],
    `${code}: no error object, so no stack`,
  );
}

t.test('a failing upstream: 502 and 504, each one warn line without a stack', async (t) => {
  const server = await startChild({
    LUMEN_FACE_IMMICH_UPSTREAM: upstreamUrl,
    LUMEN_FACE_IMMICH_UPSTREAM_TIMEOUT: '1',
    LUMEN_FACE_IMMICH_UPSTREAM_MAX_BYTES: '32768',
    LUMEN_FACE_LOG_LEVEL: 'info',
  });
  t.teardown(() => server.stop());
  mode = 'fail';
  await checkLogged(t, server.output, await predict(server.address), 502, 'UPSTREAM_FAILED');
  mode = 'huge';
  await checkLogged(t, server.output, await predict(server.address), 502, 'UPSTREAM_FAILED');
  mode = 'hang';
  await checkLogged(t, server.output, await predict(server.address), 504, 'UPSTREAM_TIMEOUT');
  t.notMatch(server.output(), /"stack"/, 'no stack anywhere in the log');
});

t.test('an upstream that cannot be reached: 502, one warn line without a stack', async (t) => {
  const closed = await freePort();
  const server = await startChild({ LUMEN_FACE_IMMICH_UPSTREAM: `http://127.0.0.1:${closed}`, LUMEN_FACE_LOG_LEVEL: 'info' });
  t.teardown(() => server.stop());
  await checkLogged(t, server.output, await predict(server.address), 502, 'UPSTREAM_FAILED');
  t.notMatch(server.output(), /"stack"/, 'no stack anywhere in the log');
});
