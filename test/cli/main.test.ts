import { readFileSync } from 'node:fs';
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import t from 'tap';
import { MODELS_DIR, TEST_ENGINE } from '../helpers/fixtures.js';
import { listFiles, serve, sha256, startServer, tmpDir } from '../helpers/models.js';
import { lumenFace } from '../helpers/cli.js';

/** `lumen-face` as a real process: fetch from a mirror on 127.0.0.1, check, info, help and exit codes. */

const PACK = join(MODELS_DIR, 'scrfd_500m_mbf', 'onnxrt', 'fp32');
const FILES: Record<string, Buffer> = {
  '/m/scrfd_500m_mbf/onnxrt/fp32/detection.onnx': readFileSync(join(PACK, 'detection.onnx')),
  '/m/scrfd_500m_mbf/onnxrt/fp32/recognition.onnx': readFileSync(join(PACK, 'recognition.onnx')),
};
const QUIET = { ...TEST_ENGINE, LUMEN_FACE_WORKERS: '1' };

t.test('fetch downloads into the cache with progress lines, verifies, prints where; then works from the cache', async (t) => {
  const srv = await startServer(t, (req, res) => (FILES[req.url ?? ''] ? serve(res, FILES[req.url ?? '']) : res.writeHead(404).end()));
  const cache = await tmpDir(t);
  const env = { LUMEN_FACE_CACHE_DIR: cache, LUMEN_FACE_REPO_BASE: `${srv.origin}/m` };
  const run = await lumenFace(['fetch', '--model', 'scrfd_500m_mbf', '--precision', 'fp32'], env);
  t.equal(run.code, 0, run.stderr);
  t.match(run.stderr, `downloading ${srv.origin}/m/scrfd_500m_mbf/onnxrt/fp32/detection.onnx (2.5 MB)`);
  t.match(run.stderr, /^ {2}100% 2\.5 MB of 2\.5 MB$/m, 'a plain progress line when stderr is not a terminal');
  t.match(run.stdout, `detection: ${join(cache, 'scrfd_500m_mbf/onnxrt/fp32/detection.onnx')}`);
  t.match(run.stdout, `sha256 ${sha256(FILES['/m/scrfd_500m_mbf/onnxrt/fp32/detection.onnx'])}`);
  t.match(run.stdout, 'verified: both graphs load');
  t.same(await listFiles(cache), [
    'scrfd_500m_mbf/onnxrt/fp32/detection.onnx',
    'scrfd_500m_mbf/onnxrt/fp32/detection.onnx.meta.json',
    'scrfd_500m_mbf/onnxrt/fp32/recognition.onnx',
    'scrfd_500m_mbf/onnxrt/fp32/recognition.onnx.meta.json',
  ]);
  t.equal(srv.requests.length, 2);

  const again = await lumenFace(['fetch', '--model', 'scrfd_500m_mbf', '--precision', 'fp32'], { ...env, LUMEN_FACE_OFFLINE: '1' });
  t.equal(again.code, 0);
  t.match(again.stdout, 'from cache');
  t.equal(srv.requests.length, 2, 'nothing downloaded twice');
});

t.test('fetch of a missing pack exits 1 with the human message; bad flags and variables exit 2', async (t) => {
  const srv = await startServer(t, (_req, res) => res.writeHead(404).end());
  const cache = await tmpDir(t);
  const missing = await lumenFace(['fetch', '--model', 'nope'], { LUMEN_FACE_CACHE_DIR: cache, LUMEN_FACE_REPO_BASE: `${srv.origin}/m` });
  t.equal(missing.code, 1);
  t.match(
    missing.stderr,
    /model file detection\.onnx of pack nope \(onnxrt\/fp16\) not found\. Places tried:\n {2}local: LUMEN_FACE_LOCAL_DIR not set\n {2}cache: .*\(not found\)\n {2}remote: .*\/m\/nope\/onnxrt\/fp16\/detection\.onnx \(HTTP 404 Not Found\)/,
  );
  t.match(missing.stderr, /^lumen-face fetch failed: the model pack could not be found\./, 'says which command failed, and why');
  t.notMatch(missing.stderr, /could not start/, 'fetch is not the server');
  t.match(
    missing.stderr,
    /What to do next:\n {2}- set LUMEN_FACE_LOCAL_DIR to a folder with the pack \(for example \{dir\}\/nope\/onnxrt\/fp16\/detection\.onnx/,
  );
  t.notMatch(missing.stderr, /run `[^`]*fetch`/, 'does not suggest the command that just failed');
  t.match(missing.stderr, `or check that ${srv.origin}/m holds this pack`);
  t.match(missing.stderr, 'LUMEN_FACE_MODEL_NAME=buffalo_l LUMEN_FACE_PACK_LAYOUT=immich');
  t.same(await readdir(cache), [], 'a failed fetch leaves no empty folders in the cache');

  const flag = await lumenFace(['fetch', '--modle', 'x'], {});
  t.equal(flag.code, 2);
  t.match(flag.stderr, /lumen-face fetch: Unknown option '--modle'/);
  const value = await lumenFace(['fetch', '--model', '../etc'], {});
  t.equal(value.code, 2);
  t.match(value.stderr, /--model is invalid: expected a pack name.*; received "\.\.\/etc"/s, 'named as the flag typed');
  const precision = await lumenFace(['fetch', '--precision', 'fp8'], { LUMEN_FACE_PRECISION: 'fp32' });
  t.equal(precision.code, 2);
  t.match(precision.stderr, /--precision is invalid: .*received "fp8"/);
  t.notMatch(precision.stderr, /LUMEN_FACE_PRECISION is invalid/);
  const variable = await lumenFace(['fetch'], { LUMEN_FACE_PRECISION: 'fp8' });
  t.match(variable.stderr, /LUMEN_FACE_PRECISION is invalid: .*received "fp8"/, 'a bad variable is still named as the variable');
  const command = await lumenFace(['fecth'], {});
  t.equal(command.code, 2);
  t.match(
    command.stderr,
    /unknown command "fecth": expected one of serve, fetch, check, info, version, help\n/,
    'every command the tool answers, version and help included',
  );
});

t.test("fetch --layout immich asks immich's repository and suggests immich's folder layout", async (t) => {
  const cache = await tmpDir(t);
  const run = await lumenFace(['fetch', '--model', 'buffalo_l', '--layout', 'immich'], { LUMEN_FACE_CACHE_DIR: cache, LUMEN_FACE_OFFLINE: '1' });
  t.equal(run.code, 1);
  t.match(run.stderr, 'remote: https://huggingface.co/immich-app/buffalo_l/resolve/main/detection/model.onnx (skipped: offline mode)');
  t.notMatch(run.stderr, /Lumilio-Photos/);
  t.match(run.stderr, '(for example {dir}/buffalo_l/detection/model.onnx and recognition/...)');
  t.notMatch(run.stderr, 'LUMEN_FACE_PACK_LAYOUT=immich`', 'the immich suggestion is not made for an immich pack');
  t.same(await readdir(cache), []);
});

t.test('fetch of a pack in LUMEN_FACE_LOCAL_DIR says the service reads it there and copies nothing', async (t) => {
  const cache = await tmpDir(t);
  const run = await lumenFace(['fetch', '--model', 'scrfd_500m_mbf', '--precision', 'fp32'], { LUMEN_FACE_CACHE_DIR: cache, LUMEN_FACE_LOCAL_DIR: MODELS_DIR });
  t.equal(run.code, 0, run.stderr);
  t.match(run.stdout, `local: the service reads this pack from LUMEN_FACE_LOCAL_DIR (${MODELS_DIR}); nothing to copy into the cache`);
  t.notMatch(run.stdout, /^cache:/m);
  t.same(await readdir(cache), []);
});

t.test('--version', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string };
  for (const flag of ['--version', '-v', 'version']) {
    const run = await lumenFace([flag], {});
    t.equal(run.code, 0);
    t.equal(run.stdout, `lumen-face ${pkg.version}\n`, flag);
  }
});

t.test('--help on every command', async (t) => {
  for (const command of ['serve', 'fetch', 'check', 'info']) {
    const run = await lumenFace([command, '--help'], {});
    t.equal(run.code, 0, command);
    t.match(run.stdout, `Usage: lumen-face ${command}`);
  }
  const top = await lumenFace(['--help'], {});
  t.equal(top.code, 0);
  t.match(top.stdout, /serve[\s\S]*fetch[\s\S]*check[\s\S]*info/);
});

t.test('check exits 0 on the shared pack with a short report, and 1 on a broken one', async (t) => {
  const env = {
    ...QUIET,
    LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
    LUMEN_FACE_MODEL_NAME: 'scrfd_2.5g_mbf',
    LUMEN_FACE_PRECISION: 'fp32',
    LUMEN_FACE_CACHE_DIR: await tmpDir(t),
  };
  const ok = await lumenFace(['check'], env);
  t.equal(ok.code, 0, ok.stderr);
  t.match(ok.stdout, /^lumen-face check: OK$/m);
  t.match(ok.stdout, 'LUMEN_FACE_MODEL_NAME=scrfd_2.5g_mbf');
  t.match(ok.stdout, `detection: ${join(MODELS_DIR, 'scrfd_2.5g_mbf/onnxrt/fp32/detection.onnx')}`);
  t.match(ok.stdout, 'from local, 3290207 bytes, sha256 bc24bb349491481c3ca793cf89306723162c280cb284c5a5e49df3760bf5c2ce');
  t.match(ok.stdout, /runtime: onnxrt on cpu, providers cpu/);
  t.match(ok.stdout, /inputs: detection 640x640, recognition 112x112 \(batch (\d+|dynamic)\)/);
  t.notMatch(ok.stdout, /null/);
  t.match(ok.stdout, /embedding: 128 dimensions, norm 1\.0000/);
  t.match(
    ok.stdout,
    /^test face \(a face from InsightFace's sample t1\.jpg, 332x332\): 1 face\(s\) found, box \[[\d, ]+\], overlap with the expected box (0\.9\d|1\.00)$/m,
    'the face it must find',
  );
  t.match(ok.stdout, /time: load [\d.]+ ms, decode [\d.]+ ms, detect [\d.]+ ms, align [\d.]+ ms, embed [\d.]+ ms/);

  const broken = await tmpDir(t);
  await mkdir(join(broken, 'bad/onnxrt/fp32'), { recursive: true });
  await writeFile(join(broken, 'bad/onnxrt/fp32/detection.onnx'), 'not a graph');
  await writeFile(join(broken, 'bad/onnxrt/fp32/recognition.onnx'), readFileSync(join(PACK, 'recognition.onnx')));
  const bad = await lumenFace(['check', '--model', 'bad', '--precision', 'fp32'], { ...env, LUMEN_FACE_LOCAL_DIR: broken });
  t.equal(bad.code, 1);
  t.match(bad.stderr, /^lumen-face check failed: the model pack could not be loaded/);
  t.notMatch(bad.stdout, /check: OK/);

  const absent = await lumenFace(['check', '--model', 'absent'], env);
  t.equal(absent.code, 1);
  t.match(absent.stderr, /\(skipped: offline mode\)/, 'check never downloads');
});

t.test('info is offline like check: a pack that is not here is not downloaded', async (t) => {
  const srv = await startServer(t, (_req, res) => serve(res, Buffer.from('not a graph')));
  const env = { ...QUIET, LUMEN_FACE_CACHE_DIR: await tmpDir(t), LUMEN_FACE_REPO_BASE: `${srv.origin}/m` };
  for (const command of ['check', 'info']) {
    const run = await lumenFace([command, '--model', 'absent'], env);
    t.equal(run.code, 1, command);
    t.match(run.stderr, /\(skipped: offline mode\)/, `${command} names the remote it did not ask`);
  }
  t.equal(srv.requests.length, 0, 'no request reached the mirror');
});

t.test('info prints /v1/info without a server', async (t) => {
  const run = await lumenFace(['info', '--model', 'scrfd_500m_mbf', '--precision', 'fp32'], {
    ...QUIET,
    LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
    LUMEN_FACE_CACHE_DIR: await tmpDir(t),
  });
  t.equal(run.code, 0, run.stderr);
  const info = JSON.parse(run.stdout);
  t.match(info, { model: { name: 'scrfd_500m_mbf', dim: 128 }, pack: { layout: 'lumen' }, files: { detection: { source: 'local' } } });
});
