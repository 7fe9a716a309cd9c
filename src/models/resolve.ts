import { mkdir, rmdir, stat } from 'node:fs/promises';
import { dirname, join, resolve as resolvePath, sep } from 'node:path';
import type { PackFileInfo } from './types.js';
import { LumenError } from '../errors.js';
import { invalid as invalidText } from '../validation.js';
import { silentLogger, type Logger } from '../types.js';
import { checkCached, removeSidecar, removeStaleTemps, writeSidecar } from './cache.js';
import { downloadToFile } from './download.js';
import { RemoteFailure } from './http.js';
import { chooseLayout } from './layouts/choose.js';
import { immichFiles } from './layouts/immich.js';
import { insightfaceDirs, routeInsightfaceFolder } from './layouts/insightface.js';
import { lumenFiles } from './layouts/lumen.js';
import type { FileSpec } from './layouts/spec.js';
import { acquireLock, DEFAULT_STALE_MS } from './lock.js';
import { hashFile } from './sha256.js';
import type { PackLayout, PackRequest, ResolvedPack } from './types.js';
import { isHfRepo } from './url.js';
import { isSafeSegment, RUNTIMES, SEGMENT_EXPECTED } from './names.js';

// What Hugging Face answers for a missing file, or a missing/private repository.
const NOT_FOUND_STATUSES = new Set([401, 403, 404, 410]);

function invalid(name: string, expected: string, received: unknown): LumenError {
  return new LumenError('INVALID_MODEL_REQUEST', invalidText(name, expected, received));
}

function validate(req: PackRequest): void {
  // Names become path segments: nothing that could climb out of the cache or local directory.
  if (!isSafeSegment(req.model)) throw invalid('model name', SEGMENT_EXPECTED, req.model);
  if (!RUNTIMES.includes(req.runtime)) throw invalid('runtime', `one of ${RUNTIMES.join(', ')}`, req.runtime);
  if (!isSafeSegment(req.precision)) throw invalid('precision', SEGMENT_EXPECTED, req.precision);
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
function fetchIntoCacheOnce(target: string, url: string, token: string | undefined, req: PackRequest, log: Logger) {
  let p = inflight.get(target);
  if (!p) {
    p = fetchIntoCache(target, url, token, req, log).finally(() => inflight.delete(target));
    inflight.set(target, p);
  }
  return p;
}

async function fetchIntoCache(target: string, url: string, token: string | undefined, req: PackRequest, log: Logger): Promise<RemoteOutcome> {
  await mkdir(dirname(target), { recursive: true });
  let failed = true;
  const release = await acquireLock(`${target}.lock`, { log });
  try {
    // Whoever held the lock before us may have just finished the very same download.
    const again = await checkCached(target);
    if (again.ok) return { source: 'cache', size: again.size, sha256: again.sha256, url: again.url };
    await removeLeftovers(target, log);
    await removeSidecar(target);
    const r = await downloadToFile({
      url,
      target,
      token,
      timeoutMs: req.timeoutMs,
      log,
      onProgress: req.onProgress,
      progressEveryMs: req.progressEveryMs,
    });
    await writeSidecar(target, { size: r.size, sha256: r.sha256, url, downloadedAt: new Date().toISOString() });
    failed = false;
    return { source: 'remote', size: r.size, sha256: r.sha256, url };
  } finally {
    await release();
    if (failed) await removeEmptyFolders(dirname(target), req.cacheDir);
  }
}

/**
 * After a failed download, the folders made for it are empty: remove them, deepest first, up to the
 * cache root. rmdir refuses a folder that holds anything, so another download's files are never touched.
 */
async function removeEmptyFolders(from: string, cacheDir: string): Promise<void> {
  const root = resolvePath(cacheDir);
  for (let dir = resolvePath(from); dir.startsWith(`${root}${sep}`); dir = dirname(dir)) {
    try {
      await rmdir(dir);
    } catch {
      return;
    }
  }
}

/** Partial downloads of a killed process, old enough that no live writer can own them. */
async function removeLeftovers(target: string, log: Logger): Promise<void> {
  for (const p of await removeStaleTemps(target, DEFAULT_STALE_MS)) {
    log.info({ path: p }, 'removed leftover partial download');
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

async function localFile(spec: FileSpec, path: string, source: 'local' | 'cache', log: Logger): Promise<PackFileInfo> {
  try {
    const { size, sha256 } = await hashFile(path);
    log.debug({ role: spec.role, path, size }, `using ${source} model file`);
    return { role: spec.role, path, source, size, sha256 };
  } catch (err) {
    throw new LumenError('MODEL_READ_FAILED', `${spec.what}: cannot read ${path}: ${(err as Error).message}`, { cause: err });
  }
}

/** Resolves one file: the local candidates, then the cache, then the download into the cache. */
export async function resolveFile(req: PackRequest, spec: FileSpec, log: Logger): Promise<PackFileInfo> {
  const { what, role } = spec;
  const tried: string[] = [];
  const notFound = async (cause?: unknown) => {
    const hint = await spec.hint?.();
    return new LumenError('MODEL_NOT_FOUND', `${what} not found:\n${tried.map((l) => `  ${l}`).join('\n')}${hint ? `\n${hint}` : ''}`, { cause });
  };

  if (req.localDir) {
    for (const path of spec.local) {
      const reason = await localReason(path);
      if (!reason) return localFile(spec, path, 'local', log);
      tried.push(`local: ${path} (${reason})`);
    }
  } else {
    tried.push('local: LUMEN_FACE_LOCAL_DIR not set');
  }

  const target = spec.cache;
  await removeLeftovers(target, log);
  const cached = await checkCached(target);
  if (cached.ok) {
    log.debug({ role, path: target, size: cached.size }, 'using cached model file');
    return { role, path: target, source: 'cache', url: cached.url, size: cached.size, sha256: cached.sha256 };
  }
  tried.push(`cache: ${target} (${cached.reason})`);

  const { url } = spec;
  if (req.offline) {
    tried.push(`remote: ${url} (skipped: offline mode)`);
    throw await notFound();
  }
  if (req.remote === false) {
    tried.push('remote: not tried (LUMEN_FACE_LOCAL_DIR is set and no remote source is: set LUMEN_FACE_REPO_BASE to download what it lacks)');
    throw await notFound();
  }
  const token = req.hfToken && isHfRepo(req) ? req.hfToken : undefined;
  try {
    const r = await fetchIntoCacheOnce(target, url, token, req, log);
    return { role, path: target, source: r.source, url: r.url, size: r.size, sha256: r.sha256 };
  } catch (err) {
    const remote = err instanceof RemoteFailure ? err : undefined;
    tried.push(`remote: ${url} (${remote ? remote.detail : `error: ${(err as Error).message}`})`);
    if (remote?.kind === 'http' && remote.status !== undefined && NOT_FOUND_STATUSES.has(remote.status)) {
      throw await notFound(err);
    }
    throw new LumenError('MODEL_DOWNLOAD_FAILED', `${what} could not be downloaded:\n${tried.map((l) => `  ${l}`).join('\n')}`, { cause: err });
  }
}

/** The file specs of a downloadable layout. */
export async function layoutFiles(req: PackRequest, layout: Exclude<PackLayout, 'insightface'>): Promise<FileSpec[]> {
  return layout === 'immich' ? immichFiles(req) : lumenFiles(req);
}

async function resolveInsightface(req: PackRequest, log: Logger): Promise<ResolvedPack> {
  if (req.runtime !== 'onnxrt') {
    throw invalid('runtime for an insightface folder', 'onnxrt (insightface folders hold ONNX graphs only; use an immich or lumen pack for rknn)', req.runtime);
  }
  const dirs = insightfaceDirs(req);
  const tried: string[] = [];
  for (const [source, dir] of [
    ['local', dirs.local],
    ['cache', dirs.cache],
  ] as const) {
    if (!dir) {
      tried.push('local: LUMEN_FACE_LOCAL_DIR not set');
      continue;
    }
    const present = await stat(dir).then(
      (s) => s.isDirectory(),
      () => false,
    );
    if (!present) {
      tried.push(`${source}: ${dir} (not found)`);
      continue;
    }
    const folder = await routeInsightfaceFolder(dir);
    const notes = folder.graphs.map((g) => {
      const chosen = g === folder.detection || g === folder.recognition;
      return `${g.file}: ${g.role === 'other' ? 'not used' : chosen ? `${g.role} (chosen)` : `also a ${g.role} graph, not used`} (${g.summary})`;
    });
    log.info({ dir, detection: folder.detection.file, recognition: folder.recognition.file }, 'insightface folder: roles chosen from the graphs');
    const file = (role: 'detection' | 'recognition') =>
      localFile({ role, what: `${role} graph of insightface pack ${req.model}`, local: [], cache: '', url: '' }, folder[role].path, source, log);
    return {
      // insightface's graphs are fp32.
      model: req.model,
      runtime: req.runtime,
      precision: 'fp32',
      layout: 'insightface',
      detection: await file('detection'),
      recognition: await file('recognition'),
      notes,
    };
  }
  throw new LumenError(
    'MODEL_NOT_FOUND',
    `insightface pack ${req.model} not found (insightface folders are never downloaded: ` +
      `unzip ${req.model}.zip from insightface's releases into a folder named ${req.model}):\n${tried.map((l) => `  ${l}`).join('\n')}`,
  );
}

/**
 * Finds the two files of a pack in the layout asked for (or recognised): in the local directory,
 * else in the cache, else downloads them into the cache (unless offline).
 */
export async function resolvePack(req: PackRequest, log: Logger = silentLogger): Promise<ResolvedPack> {
  validate(req);
  const layout = await chooseLayout(req);
  if (layout === 'insightface') return resolveInsightface(req, log);
  const specs = await layoutFiles(req, layout);
  const [detection, recognition] = [await resolveFile(req, specs[0], log), await resolveFile(req, specs[1], log)];
  const notes =
    layout === 'immich' && req.runtime === 'rknn' ? [`RKNN files from ${join('rknpu', detection.path.split('/rknpu/')[1]?.split('/')[0] ?? '?')}`] : [];
  return {
    // immich ships fp32 ONNX graphs and RKNN conversions that run in fp16 on the NPU; only lumen packs come in several.
    model: req.model,
    runtime: req.runtime,
    precision: layout === 'immich' ? (req.runtime === 'rknn' ? 'fp16' : 'fp32') : req.precision,
    layout,
    detection,
    recognition,
    notes,
    ...(layout === 'immich' && req.runtime === 'rknn' ? { rknnInput: 'normalised' as const } : {}),
  };
}
