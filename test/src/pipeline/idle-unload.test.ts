import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { imagePart, postParts, testApp } from '../../helpers/app.js';
import { readFace } from '../../helpers/fixtures.js';
import { buildFakeRknn, readFakeTrace, writeFakeRknnPack } from '../../fake-rknn/build.js';

/** LUMEN_FACE_MODEL_TTL: idle models are freed, and the next request loads them again and is answered. */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type App = Awaited<ReturnType<typeof testApp>>;

async function metric(app: App, name: string): Promise<number | undefined> {
  const text = (await app.inject('/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

async function waitUnloaded(t: Test, app: App) {
  for (let i = 0; i < 100 && (await metric(app, 'lumen_face_models_loaded')) !== 0; i++) await sleep(100);
  t.equal(await metric(app, 'lumen_face_models_loaded'), 0, 'the models were freed after the idle time');
}

t.test('onnxrt: unloaded when idle, ready all along, loaded again once for concurrent requests, same answers', async (t) => {
  const app = await testApp(t, { env: { LUMEN_FACE_MODEL_TTL: '1' } });
  await app.faceBackend.loaded;
  const photo = readFace('groups/couple.jpg');
  const first = await postParts(app, '/v1/faces', [imagePart(photo)]);
  t.equal(first.statusCode, 200);
  t.equal(await metric(app, 'lumen_face_models_loaded'), 1);
  t.equal(await metric(app, 'lumen_face_model_loads_total'), 1);
  t.equal(await metric(app, 'lumen_face_workers'), 2, 'photo workers while loaded');

  await waitUnloaded(t, app);
  t.equal(await metric(app, 'lumen_face_workers'), 0, 'no worker threads while unloaded');
  t.equal((await app.inject('/readyz')).statusCode, 200, 'unloaded is not unready');

  const again = await Promise.all([1, 2, 3].map(() => postParts(app, '/v1/faces', [imagePart(photo)])));
  t.same(
    again.map((r) => r.statusCode),
    [200, 200, 200],
    'requests during the reload wait and are answered',
  );
  for (const r of again) t.same(r.json(), first.json(), 'the same answer after the reload');
  t.equal(await metric(app, 'lumen_face_model_loads_total'), 2, 'three concurrent requests shared one load');
  t.equal(await metric(app, 'lumen_face_models_loaded'), 1);
});

t.test('rknn: the contexts are released when idle and opened again on demand', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-idle-rknn-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const trace = join(dir, 'trace.log');
  writeFakeRknnPack(dir, { model: 'fake', precision: 'fp16', detection: { faces: 1, extra: { trace } }, recognition: { extra: { trace } } });
  const app = await testApp(t, {
    env: {
      LUMEN_FACE_RUNTIME: 'rknn',
      LUMEN_FACE_LOCAL_DIR: dir,
      LUMEN_FACE_MODEL_NAME: 'fake',
      LUMEN_FACE_PRECISION: 'fp16',
      LUMEN_FACE_RKNN_LIBRARY: buildFakeRknn(),
      LUMEN_FACE_EXTRA: JSON.stringify({ rknn_contexts: 2 }),
      LUMEN_FACE_WORKERS: '2',
      LUMEN_FACE_MODEL_TTL: '1',
    },
  });
  await app.faceBackend.loaded;
  const calls = (...fns: string[]) => readFakeTrace(trace).filter((c) => fns.includes(c.fn) && c.rc === 0).length;
  const opened = calls('rknn_init', 'rknn_dup_context');
  t.equal(opened, 8, 'two contexts for each model in each of the two photo workers');
  await waitUnloaded(t, app);
  t.equal(calls('rknn_destroy'), opened, 'every context was destroyed');
  const res = await postParts(app, '/v1/faces', [imagePart(readFace('groups/couple.jpg'))]);
  t.equal(res.statusCode, 200, 'the next request is answered');
  t.equal(calls('rknn_init', 'rknn_dup_context'), 2 * opened, 'the contexts were opened again');
});
