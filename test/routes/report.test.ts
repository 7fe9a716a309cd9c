import t from 'tap';
import { testApp } from '../helpers/app.js';
import { backendFor, readFace, TEST_ENGINE } from '../helpers/fixtures.js';

/**
 * Server-Timing is wall-clock honest: photos of one request run at once (a batch, verify), so their stage
 * times summed would claim more time than the request took. Over a real socket, every stage's duration,
 * and all of them added up, stay within the request's `total`, which itself is within what the client
 * waited.
 */

const backend = await backendFor('scrfd_500m_mbf', 'fp32', { ...TEST_ENGINE, LUMEN_FACE_WORKERS: '2' });
t.teardown(() => backend.close());
const app = await testApp(t, { backend, env: { LUMEN_FACE_MAX_INFLIGHT: '8' } });
const base = await app.listen({ host: '127.0.0.1', port: 0 });

const PHOTOS = ['groups/couple.jpg', 'groups/t1.jpg', 'groups/selfie_many_people.jpg', 'groups/voc_2007_007763.jpg'];

function parse(header: string | null): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of String(header).split(', ')) {
    const m = /^([\w-]+);dur=([\d.]+)/.exec(entry);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

async function post(path: string, form: FormData) {
  const started = performance.now();
  const res = await fetch(`${base}${path}`, { method: 'POST', body: form });
  await res.arrayBuffer();
  return { res, waitedMs: performance.now() - started, timing: parse(res.headers.get('server-timing')) };
}

const photo = (name: string) => new Blob([readFace(name) as BlobPart], { type: 'image/jpeg' });

t.test('a batch of photos run at once reports no more stage time than the request took', async (t) => {
  const form = new FormData();
  for (let i = 0; i < 8; i++) form.append('image', photo(PHOTOS[i % PHOTOS.length]), `p${i}.jpg`);
  for (const path of ['/v1/faces/batch', '/v1/detect/batch']) {
    const { res, waitedMs, timing } = await post(path, form);
    t.equal(res.status, 200, path);
    const total = timing.get('total');
    t.ok(total !== undefined && total > 0, `${path}: a total (the request's wall time) is reported`);
    t.ok((total ?? Infinity) <= waitedMs + 1, `${path}: total ${total} ms within the ${waitedMs.toFixed(1)} ms the client waited`);
    const stages = [...timing].filter(([name]) => name !== 'total');
    t.ok(stages.some(([name]) => name === 'decode') && stages.some(([name]) => name === 'detect'), `${path}: the stages are still named`);
    for (const [name, ms] of stages) t.ok(ms <= (total ?? 0) + 0.1, `${path}: ${name} ${ms} ms within total ${total} ms`);
    const added = stages.reduce((s, [, ms]) => s + ms, 0);
    t.ok(added <= (total ?? 0) + 0.1 * stages.length, `${path}: the stages add up to ${added.toFixed(1)} ms, within total ${total} ms`);
  }
});

t.test('verify (two photos at once) reports no more stage time than the request took', async (t) => {
  const form = new FormData();
  form.append('image1', photo('groups/couple.jpg'), 'a.jpg');
  form.append('image2', photo('groups/t1.jpg'), 'b.jpg');
  const { res, timing } = await post('/v1/verify', form);
  t.equal(res.status, 200);
  const total = timing.get('total') ?? 0;
  const added = [...timing].filter(([name]) => name !== 'total').reduce((s, [, ms]) => s + ms, 0);
  t.ok(total > 0 && added <= total + 0.5, `stages add up to ${added.toFixed(1)} ms, within total ${total} ms`);
});

t.test('one photo whose runs overlap (decode 38 s in a 31.7 s request) is scaled to the wall time', async (t) => {
  const { wallClockTimings } = await import('../../routes/report.js');
  const timing = wallClockTimings([{ faces: [], timings: { decode: 38_000, detect: 2_000, align: 500, embed: 3_000, quality: 0 } }], 31_700);
  t.equal(timing.total, 31_700);
  const added = Object.entries(timing)
    .filter(([name]) => name !== 'total')
    .reduce((s, [, ms]) => s + ms, 0);
  t.ok(Math.abs(added - 31_700) < 1e-6, `the stages add up to the wall time (${added} ms), not to 43.5 s`);
  t.ok(timing.decode < 31_700 && timing.decode > timing.embed, 'decode keeps its share');
});
