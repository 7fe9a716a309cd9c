import t from 'tap';
import { testApp } from '../helpers/app.js';
import { readFace } from '../helpers/fixtures.js';

/**
 * Every request has a cost bound, over a real socket: a batch answers at most
 * LUMEN_FACE_MAX_FACES_PER_REQUEST faces and says which images it left out; caller boxes that need a
 * landmark search of their own are refused past the per-request bound before any search runs; and a
 * request whose work outlasts LUMEN_FACE_REQUEST_BUDGET ends with 503 BUDGET_EXCEEDED.
 */

async function listening(env: Record<string, string>) {
  const app = await testApp(t, { env });
  await app.faceBackend.loaded;
  return app.listen({ host: '127.0.0.1', port: 0 });
}
const base = await listening({ LUMEN_FACE_MAX_FACES_PER_REQUEST: '12' });

function form(photos: Buffer[], fields: Record<string, string> = {}) {
  const body = new FormData();
  for (const [k, v] of Object.entries(fields)) body.append(k, v);
  for (const photo of photos) body.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'photo.jpg');
  return body;
}

const group = readFace('groups/selfie_many_people.jpg');
const noFace = readFace('noface/landscape_lake.jpg');

t.test('a batch answers at most LUMEN_FACE_MAX_FACES_PER_REQUEST faces, naming the images left out', async (t) => {
  const res = await fetch(`${base}/v1/detect/batch?min_score=0.3`, { method: 'POST', body: form(Array(4).fill(group)) });
  const body = (await res.json()) as { results: Array<{ faces?: unknown[]; error?: { code: string } }> };
  t.equal(res.status, 200);
  const faces = body.results.reduce((n, r) => n + (r.faces?.length ?? 0), 0);
  t.ok(faces <= 12, `${faces} faces in all`);
  t.ok(
    body.results.some((r) => r.error?.code === 'TOO_MANY_FACES'),
    'the images over the bound say so',
  );
});

t.test('boxes needing a landmark search of their own are bounded per request', async (t) => {
  const boxes = Array.from({ length: 256 }, (_, i) => [(i % 16) * 20, Math.floor(i / 16) * 20, (i % 16) * 20 + 18, Math.floor(i / 16) * 20 + 18]);
  const started = performance.now();
  const res = await fetch(`${base}/v1/embed`, { method: 'POST', body: form([noFace], { boxes: JSON.stringify(boxes) }) });
  const body = (await res.json()) as { code: string; message: string };
  t.equal(res.status, 400);
  t.equal(body.code, 'INVALID_BOXES');
  t.match(body.message, /at most 32 per request/);
  t.comment(`refused after ${(performance.now() - started).toFixed(0)} ms`);
});

t.test('a request whose work outlasts LUMEN_FACE_REQUEST_BUDGET ends with 503 BUDGET_EXCEEDED', async (t) => {
  const base = await listening({ LUMEN_FACE_REQUEST_BUDGET: '1' });
  const res = await fetch(`${base}/v1/faces/batch?min_score=0&nms=1`, { method: 'POST', body: form(Array(8).fill(group)) });
  const body = (await res.json()) as { code: string; message: string };
  t.equal(res.status, 503);
  t.equal(body.code, 'BUDGET_EXCEEDED');
  t.match(body.message, /LUMEN_FACE_REQUEST_BUDGET/);
});
