import { mkdir, stat } from 'node:fs/promises';
import { dirname, resolve as resolvePath } from 'node:path';
import type { PackFileInfo } from './types.js';
import { LumenError } from '../errors.js';
import { invalid as invalidText } from '../validation.js';
import { silentLogger, type Logger } from '../types.js';
import { checkCached, removeSidecar, removeStaleTemps, writeSidecar } from './cache.js';
import { downloadToFile } from './download.js';
import { RemoteFailure } from './http.js';
import { acquireLock, DEFAULT_STALE_MS } from './lock.js';
import { hashFile } from './sha256.js';
import type { PackRequest, ResolvedPack } from './types.js';
import { isHfRepo, packFileUrl } from './url.js';

type Role = PackFileInfo['role'];

const EXT: Record<PackRequest['runtime'], string> = { onnxrt: 'onnx', rknn: 'rknn' };
// Names become path segments: nothing that could climb out of the cache or local directory.
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
// What Hugging Face answers for a missing file, or a missing/private repository.
const NOT_FOUND_STATUSES = new Set([401, 403, 404, 410]);

function invalid(name: string, expected: string, received: unknown): LumenError {
  return new LumenError('INVALID_MODEL_REQUEST', invalidText(name, expected, received));
}

const NAME = 'a name of letters, digits, ".", "_" and "-", starting with a letter or digit';

function validate(req: PackRequest): void {
  if (!SEGMENT.test(req.model) || req.model.includes('..')) throw invalid('model name', `${NAME}, without ".."`, req.model);
  if (!(req.runtime in EXT)) throw invalid('runtime', `one of ${Object.keys(EXT).join(', ')}`, req.runtime);
  if (!SEGMENT.test(req.precision) || req.precision.includes('..')) throw invalid('precision', `${NAME}, without ".."`, req.precision);
  if (!req.cacheDir) throw invalid('cache directory', 'a directory path', req.cacheDir);
  if (!(req.timeoutMs > 0)) throw invalid('download timeout', 'a positive number of milliseconds', req.timeoutMs);
}

interface RemoteOutcome {
  source: 'cache' | 'remote';
  size: number;
  sha256: string;
  url: string;
}

const inflight = new Map<string, Promise<RemoteOutcome>>();

/** One download per cache file, whether the competition is in this process or another one. */
function fetchIntoCacheOnce(target: string, url: string, token: string | undefined, timeoutMs: number, log: Logger) {
  let p = inflight.get(target);
  if (!p) {
    p = fetchIntoCache(target, url, token, timeoutMs, log).finally(() => inflight.delete(target));
    inflight.set(target, p);
  }
  return p;
}

async function fetchIntoCache(
  target: string,
  url: string,
  token: string | undefined,
  timeoutMs: number,
  log: Logger,
): Promise<RemoteOutcome> {
  await mkdir(dirname(target), { recursive: true });
  const release = await acquireLock(`${target}.lock`, { log });
  try {
    // Whoever held the lock before us may have just finished the very same download.
    const again = await checkCached(target);
    if (again.ok) return { source: 'cache', size: again.size, sha256: again.sha256, url: again.url };
    for (const p of await removeStaleTemps(target, DEFAULT_STALE_MS)) {
      log.info({ path: p }, 'removed leftover partial download');
    }
    await removeSidecar(target);
    const r = await downloadToFile({ url, target, token, timeoutMs, log });
    await writeSidecar(target, { size: r.size, sha256: r.sha256, url, downloadedAt: new Date().toISOString() });
    return { source: 'remote', size: r.size, sha256: r.sha256, url };
  } finally {
    await release();
  }
}

async function localReason(path: string): Promise<string | undefined> {
  try {
    return (await stat(path)).isFile() ? undefined : 'not a regular file';
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return code === 'ENOENT' || code === 'ENOTDIR' ? 'not found' : `unreadable: ${(err as Error).message}`;
  }
}

async function resolveFile(req: PackRequest, role: Role, file: string, log: Logger): Promise<PackFileInfo> {
  const what = `model file ${file} of pack ${req.model} (${req.runtime}/${req.precision})`;
  const segments = [req.model, req.runtime, req.precision, file];
  const tried: string[] = [];
  const places = () => tried.map((l) => `  ${l}`).join('\n');

  if (req.localDir) {
    const path = resolvePath(req.localDir, ...segments);
    const reason = await localReason(path);
    if (!reason) {
      try {
        const { size, sha256 } = await hashFile(path);
        log.debug({ role, path, size }, 'using local model file');
        return { role, path, source: 'local', size, sha256 };
      } catch (err) {
        throw new LumenError('MODEL_READ_FAILED', `${what}: cannot read ${path}: ${(err as Error).message}`, {
          cause: err,
        });
      }
    }
    tried.push(`local: ${path} (${reason})`);
  } else {
    tried.push('local: LUMEN_FACE_LOCAL_DIR not set');
  }

  const target = resolvePath(req.cacheDir, ...segments);
  const cached = await checkCached(target);
  if (cached.ok) {
    log.debug({ role, path: target, size: cached.size }, 'using cached model file');
    return { role, path: target, source: 'cache', url: cached.url, size: cached.size, sha256: cached.sha256 };
  }
  tried.push(`cache: ${target} (${cached.reason})`);

  const url = packFileUrl(req, file);
  if (req.offline) {
    tried.push(`remote: ${url} (skipped: offline mode)`);
    throw new LumenError('MODEL_NOT_FOUND', `${what} not found:\n${places()}`);
  }
  const token = req.hfToken && isHfRepo(req) ? req.hfToken : undefined;
  try {
    const r = await fetchIntoCacheOnce(target, url, token, req.timeoutMs, log);
    return { role, path: target, source: r.source, url: r.url, size: r.size, sha256: r.sha256 };
  } catch (err) {
    const remote = err instanceof RemoteFailure ? err : undefined;
    tried.push(`remote: ${url} (${remote ? remote.detail : `error: ${(err as Error).message}`})`);
    if (remote?.kind === 'http' && remote.status !== undefined && NOT_FOUND_STATUSES.has(remote.status)) {
      throw new LumenError('MODEL_NOT_FOUND', `${what} not found:\n${places()}`, { cause: err });
    }
    throw new LumenError('MODEL_DOWNLOAD_FAILED', `${what} could not be downloaded:\n${places()}`, { cause: err });
  }
}

/**
 * Finds the two files of a pack: in the local directory, else in the cache, else downloads them
 * into the cache (unless offline). See PackRequest for the layout.
 */
export async function resolvePack(req: PackRequest, log: Logger = silentLogger): Promise<ResolvedPack> {
  validate(req);
  const ext = EXT[req.runtime];
  const detection = await resolveFile(req, 'detection', `detection.${ext}`, log);
  const recognition = await resolveFile(req, 'recognition', `recognition.${ext}`, log);
  return { model: req.model, runtime: req.runtime, precision: req.precision, detection, recognition };
}
