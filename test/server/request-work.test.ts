import sharp from 'sharp';
import t from 'tap';
import { readFace } from '../helpers/fixtures.js';
import { startChild } from '../helpers/server-child.js';

/**
 * A client that goes away stops its work: against the real server in its own process (one photo worker,
 * one in-flight slot), a batch of 12 photos of 12 MP is abandoned 0.8 s in, several times. Each time the
 * slot is free at once (the next request is not turned away with 503), the next request is served within
 * 3 times its normal time (the batch's remaining photos are not run), one info line names the route and
 * the photos done and skipped, and /metrics counts an `aborted` outcome.
 */

const server = await startChild({ LUMEN_FACE_MAX_INFLIGHT: '1', LUMEN_FACE_LOG_LEVEL: 'info' });
t.teardown(() => server.stop());

const big = await sharp(readFace('groups/t1.jpg')).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 80 }).toBuffer();
const small = readFace('identities/Angelina_Jolie/01.jpg');

function form(photos: Buffer[]) {
  const body = new FormData();
  for (const photo of photos) body.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  return body;
}

async function timedFaces(): Promise<{ status: number; code?: string; ms: number }> {
  const started = performance.now();
  const res = await fetch(`${server.address}/v1/faces`, { method: 'POST', body: form([small]) });
  const body = (await res.json()) as { code?: string };
  return { status: res.status, code: body.code, ms: performance.now() - started };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stoppedLines = () =>
  server
    .output()
    .split('\n')
    .filter((l) => l.includes('its work was stopped')).length;
const aborted = async () =>
  Number(
    /^lumen_face_work_outcomes_total\{route="\/v1\/faces\/batch",outcome="aborted"\} (\d+)$/m.exec(
      await (await fetch(`${server.address}/metrics`)).text(),
    )?.[1] ?? 0,
  );

t.test('an abandoned 12 x 12 MP batch stops, frees its slot and is logged and counted', async (t) => {
  await timedFaces();
  const normal = [(await timedFaces()).ms, (await timedFaces()).ms, (await timedFaces()).ms].sort((a, b) => a - b)[1];
  const ROUNDS = 5;
  for (let round = 1; round <= ROUNDS; round++) {
    const controller = new AbortController();
    const batch = fetch(`${server.address}/v1/faces/batch`, { method: 'POST', body: form(Array(12).fill(big)), signal: controller.signal }).catch(
      (err: Error) => err,
    );
    // The upload (12 photos) has arrived well before; the work is under way.
    await sleep(800);
    controller.abort();
    await batch;
    // The server learns of the abort when the closed connection reaches it; a request on another
    // connection can get there first. Once it has noticed, the very next request must find the slot free.
    while (stoppedLines() < round) await sleep(5);
    const next = await timedFaces();
    t.equal(next.status, 200, `round ${round}: the next request is served, not turned away (${next.code ?? 'ok'})`);
    t.ok(next.ms < 3 * normal, `round ${round}: served in ${next.ms.toFixed(0)} ms, within 3 x its normal ${normal.toFixed(0)} ms`);
  }
  await sleep(200);
  const lines = server
    .output()
    .split('\n')
    .filter((l) => l.includes('its work was stopped'));
  t.equal(stoppedLines(), lines.length);
  t.equal(lines.length, ROUNDS, 'one line per abandoned request');
  for (const line of lines) {
    const entry = JSON.parse(line) as { level: number; route: string; photosDone: number; photosSkipped: number };
    t.equal(entry.level, 30, 'at info');
    t.equal(entry.route, '/v1/faces/batch');
    t.equal(entry.photosDone + entry.photosSkipped, 12, 'photos done and skipped add up');
    t.ok(entry.photosSkipped > 0, `photos skipped: ${entry.photosSkipped}`);
  }
  t.equal(await aborted(), ROUNDS, '/metrics counts each under outcome="aborted"');
  t.notMatch(server.output(), /"level":50/, 'nothing at error level');
});
