import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { createBackend, LumenError, type FaceBackend } from '../../../src/index.js';
import { MAX_LANDMARK_SEARCHES } from '../../../src/pipeline/box-landmarks.js';
import { buildFakeRknn, writeFakeRknnPack } from '../../fake-rknn/build.js';
import { captureLogger } from '../../helpers/logger.js';
import { backendFor, FACES_DIR, readFace, TEST_ENGINE } from '../../helpers/fixtures.js';

/**
 * Cancellation: a call whose signal aborts rejects at once; photos not yet in a worker never reach
 * one, and the photo in progress starts no model run after the abort. The worker thread survives
 * (it is never terminated mid-run), so the next call is served.
 */

let backend: FaceBackend;
t.before(async () => {
  // One worker, so every photo of this file shares it: what one leaves behind, the next would meet.
  backend = await backendFor('scrfd_2.5g_mbf', 'fp32', { ...TEST_ENGINE, LUMEN_FACE_WORKERS: '1' });
});
t.teardown(() => backend?.close());

function firstIdentityPhoto(): string {
  const dir = join(FACES_DIR, 'identities');
  const first = readdirSync(dir).sort()[0];
  return join(dir, first, readdirSync(join(dir, first)).sort()[0]);
}

/** 12 MP, and as many boxes on blank-ish areas as a request may have searched: each costs a detection around it, one after another. */
const bigPhoto = () => sharp(firstIdentityPhoto()).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
const boxes = Array.from({ length: MAX_LANDMARK_SEARCHES }, (_, i): [number, number, number, number] => {
  const x = (i % 16) * 240 + 10;
  const y = Math.floor(i / 16) * 180 + 5;
  return [x, y, x + 200 + (i % 7), y + 170];
});

const stats = () => {
  const s = backend.stats?.();
  if (s?.modelRuns === undefined || s.running === undefined) throw new Error('the pool reports no model runs');
  return { runs: s.modelRuns, running: s.running, queued: s.queued };
};

/** Polls until `ready` holds; fails after a minute rather than hanging the suite. */
async function until(what: string, ready: () => boolean): Promise<void> {
  for (let waited = 0; !ready(); waited += 5) {
    if (waited > 60_000) throw new Error(`still waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('the call resolved; it should have been cancelled');
}

t.test('an abort mid-photo rejects with ABORTED, and the photo starts no model run after it', async (t) => {
  const photo = await bigPhoto();
  const before = stats().runs;
  const controller = new AbortController();
  const call = backend.embedDetailed(photo, { boxes }, { signal: controller.signal });
  // Inside the per-box detections: a few runs done, hundreds to go.
  await until('the photo to start its model runs', () => stats().runs >= before + 3);
  controller.abort();
  const atAbort = stats().runs;
  const err = await rejection(call);
  t.ok(err instanceof LumenError, 'a LumenError');
  t.equal((err as LumenError).code, 'ABORTED');
  t.equal((err as LumenError).status, 499);

  await until('the photo to leave the worker', () => stats().running === 0);
  // A check that read the flag just before it was set may still count its run.
  t.ok(stats().runs - atAbort <= 1, `no run started after the abort (${stats().runs - atAbort} after it; ${atAbort - before} before)`);
  t.ok(stats().runs - before < boxes.length / 4, `far fewer runs than the photo needed (${stats().runs - before} of more than ${boxes.length})`);

  const next = await backend.faces(readFace('groups/couple.jpg'));
  t.ok(next.faces.length >= 2, `the next call is served by the same worker (${next.faces.length} faces)`);
});

t.test('a waiting photo whose caller aborts never reaches a worker', async (t) => {
  const photo = await bigPhoto();
  // One worker holds two photos at once: two long ones fill it, the third waits.
  const holders = [new AbortController(), new AbortController()];
  const held = holders.map((c) => backend.embedDetailed(photo, { boxes }, { signal: c.signal }));
  await until('both photos to be in the worker', () => stats().running === 2);
  const controller = new AbortController();
  const waiting = backend.detect(photo, {}, { signal: controller.signal });
  await until('the third photo to wait', () => stats().queued === 1);
  controller.abort();
  t.equal(((await rejection(waiting)) as LumenError).code, 'ABORTED', 'the waiting photo rejects');
  t.equal(stats().queued, 0, 'it left the line');
  t.equal(stats().running, 2, 'and never reached the worker');

  for (const c of holders) c.abort();
  for (const call of held) t.equal(((await rejection(call)) as LumenError).code, 'ABORTED');
  await until('the worker to be empty', () => stats().running === 0);
});

t.test('an abort reason that is a LumenError is the rejection; an aborted signal runs nothing', async (t) => {
  const photo = readFace('groups/couple.jpg');
  const before = stats().runs;
  const timeout = new LumenError('REQUEST_TIMEOUT', 'the request took too long');
  const err = await rejection(backend.faces(photo, {}, { signal: AbortSignal.abort(timeout) }));
  t.equal(err, timeout, 'the reason itself');
  const plain = await rejection(backend.verify(photo, photo, { signal: AbortSignal.abort() }));
  t.equal((plain as LumenError).code, 'ABORTED', 'any other reason gives ABORTED');
  t.equal(stats().runs, before, 'no model ran');
  t.equal(stats().running, 0, 'no photo reached the worker');
});

t.test("handed-over bytes move to the worker; other bytes stay the caller's", async (t) => {
  const photo = readFace('groups/couple.jpg');
  const kept = new Uint8Array(photo);
  const first = await backend.detect(kept);
  t.equal(kept.byteLength, photo.length, 'plain bytes are copied: the caller can still read them');
  const given = new Uint8Array(photo);
  const second = await backend.detect({ bytes: given, handOver: true });
  t.equal(given.byteLength, 0, 'handed-over bytes were moved (their buffer is detached)');
  t.same(second.faces, first.faces, 'the same answer either way');
  const shared = new Uint8Array(new ArrayBuffer(photo.length + 16), 8, photo.length);
  shared.set(photo);
  await backend.detect({ bytes: shared, handOver: true });
  t.equal(shared.byteLength, photo.length, 'bytes sharing their buffer with other data are copied even when handed over');
});

t.test("the workers' log lines reach the backend's logger: rknn_perf_debug's NPU time per run", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-pool-log-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFakeRknnPack(dir, { model: 'fake', precision: 'fp16', detection: { faces: 1, extra: { perfUs: 321 } } });
  const { log, lines } = captureLogger();
  const rknn = await createBackend({
    env: {
      LUMEN_FACE_RUNTIME: 'rknn',
      LUMEN_FACE_LOCAL_DIR: dir,
      LUMEN_FACE_MODEL_NAME: 'fake',
      LUMEN_FACE_PRECISION: 'fp16',
      LUMEN_FACE_OFFLINE: '1',
      LUMEN_FACE_RKNN_LIBRARY: buildFakeRknn(),
      LUMEN_FACE_WORKERS: '1',
      LUMEN_FACE_EXTRA: JSON.stringify({ rknn_perf_debug: true }),
    },
    log,
  });
  t.teardown(() => rknn.close());
  await rknn.detect(readFace('groups/couple.jpg'));
  // The line crosses threads on a channel: give it a turn of the event loop to arrive.
  await until('the line from the worker', () => lines.some((l) => l.msg === 'rknn run' && l.obj.npuTimeUs === 321 && l.obj.model === 'detection'));
  t.pass('the detection run logged its NPU time from the photo worker');
});
