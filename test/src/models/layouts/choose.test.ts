import { createReadStream, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

interface Teardown {
  teardown(fn: () => unknown): void;
}
import { imagePart, multipart, testApp } from '../../../helpers/app.js';
import { MODELS_DIR, readFace, TEST_ENGINE } from '../../../helpers/fixtures.js';

/**
 * The same two shared files served in each layout: the service answers /v1/faces identically,
 * and /v1/info names the layout and the file chosen for each role.
 */

const PACK = join(MODELS_DIR, 'scrfd_2.5g_mbf', 'onnxrt', 'fp32');
const DET = join(PACK, 'detection.onnx');
const REC = join(PACK, 'recognition.onnx');
const DET_SHA = 'bc24bb349491481c3ca793cf89306723162c280cb284c5a5e49df3760bf5c2ce';
const REC_SHA = '6ced4e0c36abba9dd24b48d725f7dbb94089f75b3d3445d3d67b85157cb64743';
const QUIET = { ...TEST_ENGINE, LUMEN_FACE_WORKERS: '1' };

/** A 127.0.0.1 mirror of `files` (URL path -> file on disk); everything else is 404. */
async function mirror(t: Teardown, files: Record<string, string>) {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const file = files[req.url ?? ''];
    if (!file) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-length': statSync(file).size });
    createReadStream(file).pipe(res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests };
}

function tmp(t: Teardown, prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function facesOf(app: Awaited<ReturnType<typeof testApp>>) {
  await app.faceBackend.loaded;
  const res = await app.inject({ method: 'POST', url: '/v1/faces', ...(await multipart([imagePart(readFace('groups/t1.jpg'))])) });
  t.equal(res.statusCode, 200);
  const body = res.json();
  delete body.model; // names the pack, which differs by layout
  return body;
}

let reference: unknown;
t.before(async () => {
  const app = await testApp(t, { env: QUIET });
  reference = await facesOf(app);
  t.equal((reference as { faces: unknown[] }).faces.length, 6, 'the lumen layout finds the 6 faces of t1.jpg');
  t.equal((await app.inject('/v1/info')).json().pack.layout, 'lumen');
});

t.test('immich layout from a Hugging Face style mirror: same faces, info names the layout and files', async (t) => {
  const hf = await mirror(t, {
    '/immich-app/buffalo_x/resolve/main/detection/model.onnx': DET,
    '/immich-app/buffalo_x/resolve/main/recognition/model.onnx': REC,
  });
  const cache = tmp(t, 'lumen-immich-cache-');
  const app = await testApp(t, {
    env: {
      ...QUIET,
      LUMEN_FACE_LOCAL_DIR: '/nonexistent',
      LUMEN_FACE_OFFLINE: '0',
      LUMEN_FACE_CACHE_DIR: cache,
      LUMEN_FACE_MODEL_NAME: 'buffalo_x',
      HF_ENDPOINT: hf.origin,
      LUMEN_FACE_REPO_BASE: `${hf.origin}/immich-app`,
    },
  });
  t.same(await facesOf(app), reference, 'identical answer');
  const info = (await app.inject('/v1/info')).json();
  t.equal(info.pack.layout, 'immich', 'auto: the immich-app organisation means immich');
  t.match(info.files.detection, { source: 'remote', sha256: DET_SHA, url: `${hf.origin}/immich-app/buffalo_x/resolve/main/detection/model.onnx` });
  t.match(info.files.recognition, { source: 'remote', sha256: REC_SHA, path: join(cache, 'buffalo_x', 'recognition', 'model.onnx') });
});

t.test('immich layout from a plain mirror, then from an immich model cache on disk', async (t) => {
  const plain = await mirror(t, {
    '/models/immich-app/buffalo_x/detection/model.onnx': DET,
    '/models/immich-app/buffalo_x/recognition/model.onnx': REC,
  });
  const app = await testApp(t, {
    env: {
      ...QUIET,
      LUMEN_FACE_LOCAL_DIR: '/nonexistent',
      LUMEN_FACE_OFFLINE: '0',
      LUMEN_FACE_MODEL_NAME: 'buffalo_x',
      LUMEN_FACE_REPO_BASE: `${plain.origin}/models/immich-app`,
    },
  });
  t.same(await facesOf(app), reference, 'identical answer');
  t.same(plain.requests, ['/models/immich-app/buffalo_x/detection/model.onnx', '/models/immich-app/buffalo_x/recognition/model.onnx']);

  // What immich's own cache holds: {cache}/facial-recognition/{name}/{detection,recognition}/model.onnx
  const immichCache = tmp(t, 'lumen-immich-ml-cache-');
  for (const [role, file] of [
    ['detection', DET],
    ['recognition', REC],
  ]) {
    mkdirSync(join(immichCache, 'facial-recognition', 'buffalo_x', role), { recursive: true });
    symlinkSync(file, join(immichCache, 'facial-recognition', 'buffalo_x', role, 'model.onnx'));
  }
  const local = await testApp(t, { env: { ...QUIET, LUMEN_FACE_LOCAL_DIR: immichCache, LUMEN_FACE_MODEL_NAME: 'buffalo_x' } });
  t.same(await facesOf(local), reference, 'identical answer');
  const info = (await local.inject('/v1/info')).json();
  t.equal(info.pack.layout, 'immich', 'auto: recognised by its folders');
  t.match(info.files.detection, { source: 'local', sha256: DET_SHA, path: join(immichCache, 'facial-recognition', 'buffalo_x', 'detection', 'model.onnx') });
});

/** An insightface-style folder: the shared graphs under insightface names, plus a decoy. */
function insightfaceFolder(t: Teardown, files: Record<string, string>): string {
  const root = tmp(t, 'lumen-insightface-');
  mkdirSync(join(root, 'buffalo_x'));
  for (const [name, target] of Object.entries(files)) symlinkSync(target, join(root, 'buffalo_x', name));
  return root;
}

t.test('insightface layout: the graphs decide the roles, not the names', async (t) => {
  // The decoy is the detector under a recognizer's name; the real recognizer has a detector's name.
  const root = insightfaceFolder(t, { 'w600k_r50.onnx': DET, 'det_10g.onnx': REC, 'glintr100.onnx': DET });
  const app = await testApp(t, { env: { ...QUIET, LUMEN_FACE_LOCAL_DIR: root, LUMEN_FACE_MODEL_NAME: 'buffalo_x' } });
  t.same(await facesOf(app), reference, 'identical answer');
  const info = (await app.inject('/v1/info')).json();
  t.equal(info.pack.layout, 'insightface', 'auto: a folder of .onnx graphs');
  t.match(info.files.detection, { source: 'local', sha256: DET_SHA, path: join(root, 'buffalo_x', 'glintr100.onnx') });
  t.match(info.files.recognition, { source: 'local', sha256: REC_SHA, path: join(root, 'buffalo_x', 'det_10g.onnx') });
  t.match(
    info.pack.notes.join('\n'),
    /det_10g\.onnx: recognition \(chosen\)[\s\S]*glintr100\.onnx: detection \(chosen\) \(1 input \[1,3,\?,\?\], 9 outputs\)[\s\S]*w600k_r50\.onnx: also a detection graph, not used/,
  );
});

t.test('an insightface folder without a recognizer is refused, naming what was found', async (t) => {
  const root = insightfaceFolder(t, { 'det_10g.onnx': DET, 'w600k_r50.onnx': DET });
  const app = await testApp(t, { env: { ...QUIET, LUMEN_FACE_LOCAL_DIR: root, LUMEN_FACE_MODEL_NAME: 'buffalo_x', LUMEN_FACE_PACK_LAYOUT: 'insightface' } });
  const err = await app.faceBackend.loaded.then(
    () => undefined,
    (e: Error) => e,
  );
  t.match(err, { code: 'MODEL_NOT_FOUND' });
  t.match(err?.message, /has no recognizer \(one 3x112x112 input, one output\)/);
  t.match(err?.message, /det_10g\.onnx: detection \(1 input \[1,3,\?,\?\], 9 outputs\)/);
  t.match(err?.message, /w600k_r50\.onnx: detection/);
});

t.test('LUMEN_FACE_PACK_LAYOUT forces a layout: the lumen files are not an immich pack', async (t) => {
  const app = await testApp(t, { env: { ...QUIET, LUMEN_FACE_PACK_LAYOUT: 'immich' } });
  const err = await app.faceBackend.loaded.then(
    () => undefined,
    (e: Error) => e,
  );
  t.match(err?.message, /model file detection\/model\.onnx of immich pack scrfd_2\.5g_mbf not found/);
  t.match(err?.message, /local: .*scrfd_2\.5g_mbf\/detection\/model\.onnx \(not found\)/);
  t.match(err?.message, /local: .*facial-recognition\/scrfd_2\.5g_mbf\/detection\/model\.onnx \(not found\)/);
});
