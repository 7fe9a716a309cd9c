import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, mkdir, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import type { PackRequest } from '../../src/models/index.js';

export interface Teardown {
  teardown(fn: () => unknown): void;
}

export interface Recorded {
  path: string;
  authorization: string | undefined;
}

export interface TestServer {
  port: number;
  origin: string;
  requests: Recorded[];
  paths(): string[];
  count(path: string): number;
}

export type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

export async function startServer(t: Teardown, handler: Handler): Promise<TestServer> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    requests.push({ path: req.url ?? '', authorization: req.headers.authorization });
    handler(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  t.teardown(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });
  return {
    port,
    origin: `http://127.0.0.1:${port}`,
    requests,
    paths: () => requests.map((r) => r.path),
    count: (path) => requests.filter((r) => r.path === path).length,
  };
}

export function serve(res: http.ServerResponse, body: Buffer, headers: Record<string, string | number> = {}): void {
  res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length, ...headers });
  res.end(body);
}

/** Writes `body` in `parts` pieces, `gapMs` apart. */
export function serveSlowly(res: http.ServerResponse, body: Buffer, parts: number, gapMs: number, headers: Record<string, string | number> = {}): void {
  res.writeHead(200, { 'content-length': body.length, ...headers });
  const size = Math.ceil(body.length / parts);
  let i = 0;
  const tick = () => {
    if (res.destroyed) return;
    res.write(body.subarray(i * size, (i + 1) * size));
    i++;
    if (i < parts) setTimeout(tick, gapMs);
    else res.end();
  };
  tick();
}

export const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
export const fakeModel = (size = 4096) => randomBytes(size);

export async function tmpDir(t: Teardown): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'lumen-models-'));
  t.teardown(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

/** A local directory holding the shared scrfd_2.5g_mbf fp32 graphs as immich lays out `buffalo_l` (symlinks). */
export async function immichBuffaloDir(t: Teardown): Promise<string> {
  // Imported here, not at the top: the download tests use this module without the shared models.
  const { MODELS_DIR } = await import('../../dev/fixtures.js');
  const dir = await tmpDir(t);
  for (const role of ['detection', 'recognition']) {
    await mkdir(join(dir, 'buffalo_l', role), { recursive: true });
    await symlink(join(MODELS_DIR, 'scrfd_2.5g_mbf/onnxrt/fp32', `${role}.onnx`), join(dir, 'buffalo_l', role, 'model.onnx'));
  }
  return dir;
}

/** Every file under `dir`, relative, sorted. */
export async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

export async function put(path: string, body: Buffer): Promise<void> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, body);
}

export function request(over: Partial<PackRequest> & Pick<PackRequest, 'cacheDir' | 'repoBase'>): PackRequest {
  return {
    model: 'scrfd_x',
    runtime: 'onnxrt',
    precision: 'fp32',
    revision: 'main',
    offline: false,
    timeoutMs: 2000,
    ...over,
  };
}

/** The one capturing logger, re-exported for the model tests. */
export { captureLogger, type LogLine } from './logger.js';
