import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { LumenError } from '../../../src/errors.js';
import { resolvePack } from '../../../src/models/index.js';
import { fakeModel, listFiles, put, request, serve, sha256, startServer, tmpDir } from '../../helpers/models.js';

const HF_DET = '/Lumilio-Photos/scrfd_x/resolve/main/onnxrt/fp32/detection.onnx';
const HF_REC = '/Lumilio-Photos/scrfd_x/resolve/main/onnxrt/fp32/recognition.onnx';

t.test('local files are used without any request', async (t) => {
  const det = fakeModel(1000);
  const rec = fakeModel(3000);
  const local = await tmpDir(t);
  const cacheDir = await tmpDir(t);
  await put(join(local, 'scrfd_x/onnxrt/fp32/detection.onnx'), det);
  await put(join(local, 'scrfd_x/onnxrt/fp32/recognition.onnx'), rec);
  const srv = await startServer(t, (_req, res) => serve(res, fakeModel()));

  const r = await resolvePack(request({ localDir: local, cacheDir, repoBase: `${srv.origin}/Lumilio-Photos`, hfEndpoint: srv.origin }));
  t.same(r.detection, {
    role: 'detection',
    path: join(local, 'scrfd_x/onnxrt/fp32/detection.onnx'),
    source: 'local',
    size: 1000,
    sha256: sha256(det),
  });
  t.same(r.recognition, {
    role: 'recognition',
    path: join(local, 'scrfd_x/onnxrt/fp32/recognition.onnx'),
    source: 'local',
    size: 3000,
    sha256: sha256(rec),
  });
  t.match(r, { model: 'scrfd_x', runtime: 'onnxrt', precision: 'fp32' });
  t.equal(srv.requests.length, 0);
  t.same(await listFiles(cacheDir), []);
});

t.test('HF layout: downloads into the cache, then resolves from cache without requests', async (t) => {
  const det = fakeModel(5000);
  const rec = fakeModel(7000);
  const cacheDir = await tmpDir(t);
  const srv = await startServer(t, (req, res) => {
    if (req.url === HF_DET) return serve(res, det);
    if (req.url === HF_REC) return serve(res, rec);
    res.writeHead(404).end();
  });
  const req = request({ cacheDir, repoBase: `${srv.origin}/Lumilio-Photos`, hfEndpoint: srv.origin, hfToken: 'tok' });

  const r = await resolvePack(req);
  t.same(srv.paths(), [HF_DET, HF_REC]);
  t.same(
    srv.requests.map((x) => x.authorization),
    ['Bearer tok', 'Bearer tok'],
  );
  const detPath = join(cacheDir, 'scrfd_x/onnxrt/fp32/detection.onnx');
  t.same(r.detection, { role: 'detection', path: detPath, source: 'remote', url: srv.origin + HF_DET, size: 5000, sha256: sha256(det) });
  t.equal(r.recognition.source, 'remote');
  t.equal(r.recognition.sha256, sha256(rec));
  t.equal(r.recognition.size, 7000);
  t.ok((await readFile(detPath)).equals(det));
  t.same(await listFiles(cacheDir), [
    'scrfd_x/onnxrt/fp32/detection.onnx',
    'scrfd_x/onnxrt/fp32/detection.onnx.meta.json',
    'scrfd_x/onnxrt/fp32/recognition.onnx',
    'scrfd_x/onnxrt/fp32/recognition.onnx.meta.json',
  ]);
  const meta = JSON.parse(await readFile(`${detPath}.meta.json`, 'utf8'));
  t.match(meta, { size: 5000, sha256: sha256(det), url: srv.origin + HF_DET });

  const again = await resolvePack(req);
  t.equal(srv.requests.length, 2, 'no new request');
  t.same(again.detection, { ...r.detection, source: 'cache' });
  t.same(again.recognition, { ...r.recognition, source: 'cache' });

  const offline = await resolvePack({ ...req, offline: true });
  t.equal(offline.detection.source, 'cache');
  t.equal(srv.requests.length, 2);
});

t.test('plain layout has no revision, and gets no token', async (t) => {
  const det = fakeModel(100);
  const rec = fakeModel(200);
  const cacheDir = await tmpDir(t);
  const srv = await startServer(t, (req, res) => {
    if (req.url === '/mirror/scrfd_x/rknn/int8/detection.rknn') return serve(res, det);
    if (req.url === '/mirror/scrfd_x/rknn/int8/recognition.rknn') return serve(res, rec);
    res.writeHead(404).end();
  });
  const r = await resolvePack(request({ cacheDir, repoBase: `${srv.origin}/mirror/`, runtime: 'rknn', precision: 'int8', revision: 'v2', hfToken: 'tok' }));
  t.same(srv.paths(), ['/mirror/scrfd_x/rknn/int8/detection.rknn', '/mirror/scrfd_x/rknn/int8/recognition.rknn']);
  t.same(
    srv.requests.map((x) => x.authorization),
    [undefined, undefined],
  );
  t.equal(r.detection.path, join(cacheDir, 'scrfd_x/rknn/int8/detection.rknn'));
  t.equal(r.recognition.sha256, sha256(rec));
});

t.test('404 lists every place tried', async (t) => {
  const det = fakeModel(100);
  const local = await tmpDir(t);
  const cacheDir = await tmpDir(t);
  const srv = await startServer(t, (req, res) => {
    if (req.url === HF_DET) return serve(res, det);
    res.writeHead(404).end('Entry not found');
  });
  const req = request({ localDir: local, cacheDir, repoBase: `${srv.origin}/Lumilio-Photos`, hfEndpoint: srv.origin });
  const err = await resolvePack(req).then(
    () => undefined,
    (e: unknown) => e,
  );
  t.type(err, LumenError);
  const e = err as LumenError;
  t.equal(e.status, 503);
  t.equal(e.code, 'MODEL_NOT_FOUND');
  t.equal(
    e.message,
    'model file recognition.onnx of pack scrfd_x (onnxrt/fp32) not found:\n' +
      `  local: ${join(local, 'scrfd_x/onnxrt/fp32/recognition.onnx')} (not found)\n` +
      `  cache: ${join(cacheDir, 'scrfd_x/onnxrt/fp32/recognition.onnx')} (not found)\n` +
      `  remote: ${srv.origin}${HF_REC} (HTTP 404 Not Found)`,
  );
  t.same(await listFiles(cacheDir), ['scrfd_x/onnxrt/fp32/detection.onnx', 'scrfd_x/onnxrt/fp32/detection.onnx.meta.json']);

  await t.rejects(resolvePack({ ...req, localDir: undefined }), {
    code: 'MODEL_NOT_FOUND',
    message: /\n {2}local: LUMEN_FACE_LOCAL_DIR not set\n/,
  });
});

t.test('offline never touches the network', async (t) => {
  const cacheDir = await tmpDir(t);
  const srv = await startServer(t, (_req, res) => serve(res, fakeModel()));
  const req = request({ cacheDir, repoBase: `${srv.origin}/plain`, offline: true });
  await t.rejects(resolvePack(req), {
    status: 503,
    code: 'MODEL_NOT_FOUND',
    message:
      'model file detection.onnx of pack scrfd_x (onnxrt/fp32) not found:\n' +
      '  local: LUMEN_FACE_LOCAL_DIR not set\n' +
      `  cache: ${join(cacheDir, 'scrfd_x/onnxrt/fp32/detection.onnx')} (not found)\n` +
      `  remote: ${srv.origin}/plain/scrfd_x/onnxrt/fp32/detection.onnx (skipped: offline mode)`,
  });
  t.equal(srv.requests.length, 0);
});

t.test('an unverified or damaged cache entry is downloaded again', async (t) => {
  const det = fakeModel(600);
  const rec = fakeModel(800);
  const cacheDir = await tmpDir(t);
  const dir = join(cacheDir, 'scrfd_x/onnxrt/fp32');
  const srv = await startServer(t, (req, res) => {
    if (req.url === '/p/scrfd_x/onnxrt/fp32/detection.onnx') return serve(res, det);
    if (req.url === '/p/scrfd_x/onnxrt/fp32/recognition.onnx') return serve(res, rec);
    res.writeHead(404).end();
  });
  // A crash after the rename but before the sidecar: no metadata, not trusted.
  await put(join(dir, 'detection.onnx'), det.subarray(0, 300));
  // Same size as recorded, wrong content.
  await put(join(dir, 'recognition.onnx'), Buffer.alloc(800));
  await writeFile(join(dir, 'recognition.onnx.meta.json'), JSON.stringify({ size: 800, sha256: sha256(rec), url: 'x' }));
  // Leftovers of a crashed download: an old one is cleaned, a fresh one (maybe live) is not.
  await put(join(dir, 'detection.onnx.4242.deadbeef.part'), Buffer.alloc(10));
  const old = new Date(Date.now() - 60 * 60_000);
  await utimes(join(dir, 'detection.onnx.4242.deadbeef.part'), old, old);
  await put(join(dir, 'recognition.onnx.4243.cafebabe.part'), Buffer.alloc(10));

  const req = request({ cacheDir, repoBase: `${srv.origin}/p` });
  const r = await resolvePack(req);
  t.equal(srv.requests.length, 2);
  t.equal(r.detection.source, 'remote');
  t.equal(r.recognition.source, 'remote');
  t.ok((await readFile(join(dir, 'detection.onnx'))).equals(det));
  t.ok((await readFile(join(dir, 'recognition.onnx'))).equals(rec));
  t.same(await listFiles(cacheDir), [
    'scrfd_x/onnxrt/fp32/detection.onnx',
    'scrfd_x/onnxrt/fp32/detection.onnx.meta.json',
    'scrfd_x/onnxrt/fp32/recognition.onnx',
    'scrfd_x/onnxrt/fp32/recognition.onnx.4243.cafebabe.part',
    'scrfd_x/onnxrt/fp32/recognition.onnx.meta.json',
  ]);
  t.equal((await stat(join(dir, 'recognition.onnx'))).size, 800);
});

t.test('names that could escape the directories are rejected', async (t) => {
  const cacheDir = await tmpDir(t);
  for (const bad of [{ model: '../etc' }, { model: 'a/b' }, { precision: '..' }, { runtime: 'cuda' as 'rknn' }]) {
    await t.rejects(resolvePack({ ...request({ cacheDir, repoBase: 'http://127.0.0.1:1/x' }), ...bad }), {
      code: 'INVALID_MODEL_REQUEST',
    });
  }
  t.same(await listFiles(cacheDir), []);
});
