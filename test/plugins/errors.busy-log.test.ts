import { Writable } from 'node:stream';
import t from 'tap';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../src/config.js';
import { backendFor, readFace, TEST_ENGINE } from '../helpers/fixtures.js';
import { testEnv } from '../helpers/app.js';

/** A flood of 503 BUSY is logged as short refusals (warn, no stack), and counted in /metrics. */

const backend = await backendFor('scrfd_500m_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());
const lines: Array<Record<string, unknown> & { raw: string }> = [];
const stream = new Writable({
  write(chunk, _enc, done) {
    for (const raw of String(chunk).split('\n').filter(Boolean)) lines.push({ ...(JSON.parse(raw) as Record<string, unknown>), raw });
    done();
  },
});
const app = await buildApp({
  config: loadConfig(testEnv({ LUMEN_FACE_MAX_INFLIGHT: '1', LUMEN_FACE_LOG_LEVEL: 'info' })),
  backend,
  logger: { level: 'info', stream },
});
t.teardown(() => app.close());
await app.ready();

t.test('503 BUSY: a warn line without a stack, counted', async (t) => {
  let release!: () => void;
  void app.withImageSlot(() => new Promise<void>((r) => (release = r)));
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(readFace('identities/Angelina_Jolie/01.jpg'))], { type: 'image/jpeg' }), 'a.jpg');
  // One serialisation: each new Request draws a new multipart boundary.
  const request = new Request('http://x/', { method: 'POST', body: form });
  const contentType = request.headers.get('content-type')!;
  const payload = Buffer.from(await request.arrayBuffer());
  for (let i = 0; i < 5; i++) {
    const res = await app.inject({ method: 'POST', url: '/v1/detect', payload, headers: { 'content-type': contentType } });
    t.equal(res.statusCode, 503);
  }
  release();
  // The request log line of each answer names its code too; the refusal's own line is the warn.
  const refusals = lines.filter((l) => (l as { code?: string }).code === 'BUSY' && String(l.msg).startsWith('refused'));
  t.equal(refusals.length, 5, 'one line per refusal');
  for (const line of refusals) {
    t.equal(line.level, 40, 'at warn');
    t.notMatch(line.raw, /stack|"err"/, 'no stack');
    t.ok(line.raw.length < 400, `short (${line.raw.length} bytes)`);
  }
  t.notOk(
    lines.some((l) => (l.level as number) >= 50),
    'nothing at error level',
  );
  const metrics = await app.inject({ method: 'GET', url: '/metrics' });
  t.match(metrics.body, /lumen_face_http_errors_total\{status="503",code="BUSY"\} 5/);
});

t.test('415 for a damaged photo: our words to the client, the libvips detail in the log', async (t) => {
  const jpeg = readFace('identities/Angelina_Jolie/01.jpg');
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(jpeg.subarray(0, Math.floor(jpeg.length / 2)))], { type: 'image/jpeg' }), 'a.jpg');
  const req = new Request('http://x/', { method: 'POST', body: form });
  const res = await app.inject({
    method: 'POST',
    url: '/v1/detect',
    payload: Buffer.from(await req.arrayBuffer()),
    headers: { 'content-type': req.headers.get('content-type')! },
  });
  t.equal(res.statusCode, 415);
  const body = res.json<{ code: string; message: string }>();
  t.equal(body.code, 'UNSUPPORTED_IMAGE');
  t.match(body.message, /^the JPEG image could not be decoded: the file ends early/);
  t.notMatch(body.message, /vips|jpeg:|premature/i, 'no libvips text');
  t.ok(
    lines.some((l) => l.code === 'UNSUPPORTED_IMAGE' && /vips|premature|jpeg/i.test(String(l.detail))),
    'the detail is logged',
  );
});
