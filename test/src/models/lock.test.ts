import { spawn, spawnSync } from 'node:child_process';
import { readFile, unlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { resolvePack, type PackRequest, type ResolvedPack } from '../../../src/models/index.js';
import { fakeModel, listFiles, put, request, serveSlowly, sha256, startServer, tmpDir } from '../../helpers/models.js';

const DET = '/p/scrfd_x/onnxrt/fp32/detection.onnx';
const REC = '/p/scrfd_x/onnxrt/fp32/recognition.onnx';
const GOOD_FILES = [
  'scrfd_x/onnxrt/fp32/detection.onnx',
  'scrfd_x/onnxrt/fp32/detection.onnx.meta.json',
  'scrfd_x/onnxrt/fp32/recognition.onnx',
  'scrfd_x/onnxrt/fp32/recognition.onnx.meta.json',
];

async function slowPack(t: Parameters<typeof startServer>[0]) {
  const det = fakeModel(40_000);
  const rec = fakeModel(60_000);
  const srv = await startServer(t, (req, res) => {
    if (req.url === DET) return serveSlowly(res, det, 4, 60);
    if (req.url === REC) return serveSlowly(res, rec, 4, 60);
    res.writeHead(404).end();
  });
  const cacheDir = await tmpDir(t);
  return { det, rec, srv, cacheDir, req: request({ cacheDir, repoBase: `${srv.origin}/p` }) };
}

t.test('two concurrent resolutions in one process download each file once', async (t) => {
  const { det, rec, srv, cacheDir, req } = await slowPack(t);
  const [a, b] = await Promise.all([resolvePack(req), resolvePack(req)]);
  t.equal(srv.count(DET), 1);
  t.equal(srv.count(REC), 1);
  t.same(a, b);
  t.match(a.detection, { size: det.length, sha256: sha256(det) });
  t.match(a.recognition, { size: rec.length, sha256: sha256(rec) });
  t.same(await listFiles(cacheDir), GOOD_FILES);
  t.ok((await readFile(join(cacheDir, GOOD_FILES[2]))).equals(rec));
});

const MODULE = new URL('../../../src/models/index.js', import.meta.url).href;
const CHILD = `
const { resolvePack } = await import(process.argv[1]);
const r = await resolvePack(JSON.parse(process.argv[2]));
process.stdout.write(JSON.stringify(r));
`;

function child(req: PackRequest): Promise<ResolvedPack> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--input-type=module', '-e', CHILD, MODULE, JSON.stringify(req)]);
    let out = '';
    let err = '';
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    p.on('error', reject);
    p.on('close', (code) => (code === 0 ? resolve(JSON.parse(out) as ResolvedPack) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

t.test('two processes at once end with one good copy, each file served once', async (t) => {
  const { det, rec, srv, cacheDir, req } = await slowPack(t);
  const [a, b] = await Promise.all([child(req), child(req)]);
  t.equal(srv.count(DET), 1);
  t.equal(srv.count(REC), 1);
  t.same([a.detection.source, b.detection.source].sort(), ['cache', 'remote'], 'one process downloaded detection, the other found it cached');
  t.same([a.recognition.source, b.recognition.source].sort(), ['cache', 'remote']);
  for (const r of [a, b]) {
    t.match(r.detection, { size: det.length, sha256: sha256(det) });
    t.match(r.recognition, { size: rec.length, sha256: sha256(rec) });
  }
  t.same(await listFiles(cacheDir), GOOD_FILES);
  t.ok((await readFile(join(cacheDir, GOOD_FILES[0]))).equals(det));
});

const lockPath = (cacheDir: string) => join(cacheDir, 'scrfd_x/onnxrt/fp32/detection.onnx.lock');
const lockOf = (pid: number, host = hostname()) => JSON.stringify({ pid, hostname: host, token: 'x', createdAt: '' });

t.test('a lock left by a dead process is taken over', async (t) => {
  const { det, srv, cacheDir, req } = await slowPack(t);
  const dead = spawnSync('true').pid;
  await put(lockPath(cacheDir), Buffer.from(lockOf(dead)));
  const r = await resolvePack(req);
  t.match(r.detection, { source: 'remote', sha256: sha256(det) });
  t.equal(srv.count(DET), 1);
  t.same(await listFiles(cacheDir), GOOD_FILES);
});

t.test('a lock not refreshed for long (holder on another host) is taken over', async (t) => {
  const { srv, cacheDir, req } = await slowPack(t);
  await put(lockPath(cacheDir), Buffer.from(lockOf(1, 'some-other-host')));
  const old = new Date(Date.now() - 30 * 60_000);
  await utimes(lockPath(cacheDir), old, old);
  const r = await resolvePack(req);
  t.equal(r.detection.source, 'remote');
  t.equal(srv.count(DET), 1);
  t.same(await listFiles(cacheDir), GOOD_FILES);
});

t.test('a lock held by a live process is waited for, then the cache is re-checked', async (t) => {
  const { det, srv, cacheDir, req } = await slowPack(t);
  const holder = spawn('sleep', ['20']);
  t.teardown(() => {
    holder.kill();
  });
  await new Promise((r) => holder.once('spawn', r));
  await put(lockPath(cacheDir), Buffer.from(lockOf(holder.pid!)));

  let settled = false;
  const pending = resolvePack(req).finally(() => (settled = true));
  await new Promise((r) => setTimeout(r, 400));
  t.equal(settled, false, 'still waiting for the lock');
  t.equal(srv.requests.length, 0);

  // The holder "finishes": it leaves a verified file and releases the lock.
  const dir = join(cacheDir, 'scrfd_x/onnxrt/fp32');
  await writeFile(join(dir, 'detection.onnx'), det);
  await writeFile(join(dir, 'detection.onnx.meta.json'), JSON.stringify({ size: det.length, sha256: sha256(det), url: 'http://elsewhere/detection.onnx' }));
  await unlink(lockPath(cacheDir));

  const r = await pending;
  t.same(r.detection, {
    role: 'detection',
    path: join(dir, 'detection.onnx'),
    source: 'cache',
    url: 'http://elsewhere/detection.onnx',
    size: det.length,
    sha256: sha256(det),
  });
  t.equal(r.recognition.source, 'remote');
  t.same(srv.paths(), [REC]);
  t.same(await listFiles(cacheDir), GOOD_FILES);
});
