import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { resolvePack } from '../../../src/models/index.js';
import { createServer } from 'node:http';
import { captureLogger, type Teardown, fakeModel, listFiles, request, serve, serveSlowly, sha256, startServer, tmpDir } from '../../helpers/models.js';

const DET = '/Org/scrfd_x/resolve/main/onnxrt/fp32/detection.onnx';
const REC = '/Org/scrfd_x/resolve/main/onnxrt/fp32/recognition.onnx';

t.test('cross-origin redirect: token only to the HF origin; relative Location resolved against the current URL', async (t) => {
  const det = fakeModel(2000);
  const rec = fakeModel(3000);
  const cdn = await startServer(t, (req, res) => {
    if (req.url === '/cdn/det?sig=1') return serve(res, det);
    if (req.url === '/cdn/rec-start') return res.writeHead(302, { location: 'rec-final' }).end();
    if (req.url === '/cdn/rec-final') return serve(res, rec);
    res.writeHead(404).end();
  });
  const hf = await startServer(t, (req, res) => {
    if (req.url === DET) {
      return res
        .writeHead(302, {
          location: `${cdn.origin}/cdn/det?sig=1`,
          'x-linked-etag': `"${sha256(det)}"`,
          'x-linked-size': String(det.length),
        })
        .end();
    }
    if (req.url === REC) return res.writeHead(307, { location: '/api/resolve-cache/rec' }).end();
    if (req.url === '/api/resolve-cache/rec') {
      return res.writeHead(302, { location: `${cdn.origin}/cdn/rec-start`, 'x-linked-etag': `W/"${sha256(rec)}"` }).end();
    }
    res.writeHead(404).end();
  });
  const cacheDir = await tmpDir(t);
  const r = await resolvePack(request({ cacheDir, repoBase: `${hf.origin}/Org`, hfEndpoint: hf.origin, hfToken: 'sekret' }));

  t.same(hf.requests, [
    { path: DET, authorization: 'Bearer sekret' },
    { path: REC, authorization: 'Bearer sekret' },
    { path: '/api/resolve-cache/rec', authorization: 'Bearer sekret' },
  ]);
  t.same(cdn.requests, [
    { path: '/cdn/det?sig=1', authorization: undefined },
    { path: '/cdn/rec-start', authorization: undefined },
    { path: '/cdn/rec-final', authorization: undefined },
  ]);
  t.match(r.detection, { source: 'remote', url: hf.origin + DET, size: 2000, sha256: sha256(det) });
  t.match(r.recognition, { source: 'remote', url: hf.origin + REC, size: 3000, sha256: sha256(rec) });
  t.ok((await readFile(r.recognition.path)).equals(rec));
});

t.test('redirect loops stop', async (t) => {
  const srv = await startServer(t, (_req, res) => res.writeHead(302, { location: '/again' }).end());
  const cacheDir = await tmpDir(t);
  await t.rejects(resolvePack(request({ cacheDir, repoBase: `${srv.origin}/p` })), {
    code: 'MODEL_DOWNLOAD_FAILED',
    message: /remote: .*\/p\/scrfd_x\/onnxrt\/fp32\/detection\.onnx \(too many redirects \(more than 10\)\)$/,
  });
  t.equal(srv.requests.length, 11);
});

/** A server whose detection file is answered by `handler`; recognition is never reached. */
async function failing(t: Teardown, handler: Parameters<typeof startServer>[1], timeoutMs = 2000) {
  const srv = await startServer(t, handler);
  const cacheDir = await tmpDir(t);
  const req = request({ cacheDir, repoBase: `${srv.origin}/Org`, hfEndpoint: srv.origin, timeoutMs });
  const started = Date.now();
  const err = await resolvePack(req).then(
    () => undefined,
    (e: unknown) => e as Error & { code: string; status: number },
  );
  return { srv, cacheDir, err, ms: Date.now() - started, url: srv.origin + DET };
}

t.test('a body that stalls times out and leaves nothing behind', async (t) => {
  const body = fakeModel(1000);
  const { err, cacheDir, ms, url } = await failing(
    t,
    (_req, res) => {
      res.writeHead(200, { 'content-length': 1000 });
      res.write(body.subarray(0, 400));
    },
    300,
  );
  t.match(err, { status: 503, code: 'MODEL_DOWNLOAD_FAILED' });
  t.match(err?.message, `  remote: ${url} (timed out: no data for 300 ms after 400 of 1000 bytes)`);
  t.match(err?.message, /^model file detection\.onnx of pack scrfd_x \(onnxrt\/fp32\) could not be downloaded:\n {2}local: /);
  t.ok(ms >= 280 && ms < 2000, `took ${ms} ms`);
  t.same(await listFiles(cacheDir), []);
});

t.test('no response headers in time is a timeout too', async (t) => {
  const { err, cacheDir, url } = await failing(t, () => {}, 300);
  t.match(err, { code: 'MODEL_DOWNLOAD_FAILED' });
  t.match(err?.message, `remote: ${url} (timed out: no data for 300 ms)`);
  t.same(await listFiles(cacheDir), []);
});

t.test('a slow but steady body longer than the timeout succeeds, logging progress with the rate', async (t) => {
  const det = fakeModel(2 << 20);
  const rec = fakeModel(100);
  const srv = await startServer(t, (req, res) => {
    if (req.url === DET) return serveSlowly(res, det, 10, 100);
    serve(res, rec);
  });
  const cacheDir = await tmpDir(t);
  const { log, lines } = captureLogger();
  const started = Date.now();
  const seen: number[] = [];
  const r = await resolvePack(
    request({ cacheDir, repoBase: `${srv.origin}/Org`, hfEndpoint: srv.origin, timeoutMs: 400, progressEveryMs: 0, onProgress: (p) => seen.push(p.received) }),
    log,
  );
  t.ok(Date.now() - started > 800, 'took longer than the timeout in total');
  t.match(r.detection, { source: 'remote', size: 2 << 20, sha256: sha256(det) });
  const progress = lines.filter((l) => l.msg === 'downloading model file' && typeof l.obj.received === 'number');
  t.ok(progress.length >= 3, `${progress.length} progress lines`);
  for (const p of progress) {
    t.match(p, { level: 'info', obj: { url: srv.origin + DET, total: 2 << 20, bytesPerSecond: Number } });
    t.ok((p.obj.received as number) < 2 << 20);
  }
  t.equal(seen.at(-1), 100, 'the progress callback sees every chunk, the last file included');
});

t.test('progress is logged at most once per interval, never per chunk', async (t) => {
  const det = fakeModel(2 << 20);
  const srv = await startServer(t, (req, res) => (req.url === DET ? serveSlowly(res, det, 10, 20) : serve(res, fakeModel(100))));
  const { log, lines } = captureLogger();
  await resolvePack(request({ cacheDir: await tmpDir(t), repoBase: `${srv.origin}/Org`, hfEndpoint: srv.origin, progressEveryMs: 3_600_000 }), log);
  const progress = lines.filter((l) => l.msg === 'downloading model file' && typeof l.obj.received === 'number');
  t.same(progress, [], 'ten chunks within one interval: no progress line');
  t.ok(
    lines.some((l) => l.msg === 'downloaded model file'),
    'the end of the download is logged',
  );
});

t.test('a truncated body fails and leaves nothing behind', async (t) => {
  const body = fakeModel(1000);
  const { err, cacheDir, url } = await failing(t, (_req, res) => {
    res.writeHead(200, { 'content-length': 1000 });
    res.write(body.subarray(0, 500));
    setTimeout(() => res.socket?.destroy(), 50);
  });
  t.match(err, { status: 503, code: 'MODEL_DOWNLOAD_FAILED' });
  t.match(err?.message, `remote: ${url} (connection lost after 500 of 1000 bytes`);
  t.same(await listFiles(cacheDir), []);
});

t.test('sha256 mismatch against X-Linked-Etag fails and leaves nothing behind', async (t) => {
  const body = fakeModel(1000);
  const other = sha256(fakeModel(1000));
  const { err, cacheDir, url } = await failing(t, (_req, res) => serve(res, body, { 'x-linked-etag': `"${other}"` }));
  t.match(err, { code: 'MODEL_DOWNLOAD_FAILED' });
  t.match(err?.message, `remote: ${url} (sha256 mismatch: expected ${other}, got ${sha256(body)})`);
  t.same(await listFiles(cacheDir), []);
});

t.test('a sha256-shaped ETag from the origin is checked too', async (t) => {
  const other = sha256(fakeModel(10));
  const { err, cacheDir } = await failing(t, (_req, res) => serve(res, fakeModel(10), { etag: `"${other}"` }));
  t.match(err?.message, `(sha256 mismatch: expected ${other}, got `);
  t.same(await listFiles(cacheDir), []);
});

t.test('X-Linked-Size mismatch fails', async (t) => {
  const { err, cacheDir } = await failing(t, (_req, res) => serve(res, fakeModel(10), { 'x-linked-size': '11' }));
  t.match(err?.message, '(size mismatch: Content-Length 10, X-Linked-Size 11)');
  t.same(await listFiles(cacheDir), []);
});

t.test('server errors and refused connections are download failures', async (t) => {
  const { err, url } = await failing(t, (_req, res) => res.writeHead(500).end());
  t.match(err, { code: 'MODEL_DOWNLOAD_FAILED' });
  t.match(err?.message, `remote: ${url} (HTTP 500 Internal Server Error)`);

  // A port nobody listens on: bind one, remember it, and let it go.
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  const cacheDir = await tmpDir(t);
  const req = request({ cacheDir, repoBase: `http://127.0.0.1:${port}/x` });
  await t.rejects(resolvePack(req), {
    code: 'MODEL_DOWNLOAD_FAILED',
    message: `remote: http://127.0.0.1:${port}/x/scrfd_x/onnxrt/fp32/detection.onnx (network error: connect ECONNREFUSED 127.0.0.1:${port})`,
  });
});

t.test('sha256 match via X-Linked-Etag succeeds; a non-sha256 etag is ignored', async (t) => {
  const det = fakeModel(1234);
  const rec = fakeModel(4321);
  const srv = await startServer(t, (req, res) => {
    if (req.url === DET) return serve(res, det, { 'x-linked-etag': `W/"${sha256(det).toUpperCase()}"`, etag: '"nonsense"' });
    // A git blob sha1, as Hugging Face sends for non-LFS files.
    if (req.url === REC) return serve(res, rec, { etag: '"0123456789abcdef0123456789abcdef01234567"' });
    res.writeHead(404).end();
  });
  const cacheDir = await tmpDir(t);
  const r = await resolvePack(request({ cacheDir, repoBase: `${srv.origin}/Org`, hfEndpoint: srv.origin }));
  t.match(r.detection, { source: 'remote', size: 1234, sha256: sha256(det) });
  t.match(r.recognition, { source: 'remote', size: 4321, sha256: sha256(rec) });
  t.ok((await readFile(join(cacheDir, 'scrfd_x/onnxrt/fp32/detection.onnx'))).equals(det));
});
