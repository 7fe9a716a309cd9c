import { rename } from 'node:fs/promises';
import { LumenError } from '../errors.js';
import type { Logger } from '../types.js';
import { removeSidecar } from './cache.js';
import { readGraphSignature } from './onnx-graph.js';
import { resolvePack } from './resolve.js';
import type { PackFileInfo, PackRequest, ResolvedPack } from './types.js';

export const ASIDE_SUFFIX = '.bad';

/** Whether this downloaded file is the reason the pack failed to load. */
async function fileIsBad(file: PackFileInfo, runtime: PackRequest['runtime'], error: unknown): Promise<boolean> {
  if (runtime === 'onnxrt') {
    return readGraphSignature(file.path).then(() => false, () => true);
  }
  // The RKNN engine names the file it could not open; other failures (sizes, board) are no file's fault.
  const message = error instanceof Error ? error.message : '';
  return /could not load/.test(message) && message.includes(file.path);
}

/**
 * Runs `load` on the pack. When that fails and a file that came from the cache (or was just
 * downloaded) does not load on its own, that file is moved aside and fetched again, once, and the
 * load is retried once. A file in LUMEN_FACE_LOCAL_DIR is never touched.
 */
export async function loadWithHealing<T>(
  req: PackRequest,
  pack: ResolvedPack,
  load: (pack: ResolvedPack) => Promise<T>,
  log: Logger,
): Promise<{ pack: ResolvedPack; value: T }> {
  try {
    return { pack, value: await load(pack) };
  } catch (err) {
    if (!(err instanceof LumenError) || err.code !== 'MODEL_LOAD_FAILED' || pack.layout === 'insightface' || req.offline) throw err;
    const downloaded = [pack.detection, pack.recognition].filter((f) => f.source !== 'local');
    const bad: PackFileInfo[] = [];
    for (const file of downloaded) if (await fileIsBad(file, req.runtime, err)) bad.push(file);
    if (bad.length === 0) throw err;
    for (const file of bad) {
      const aside = `${file.path}${ASIDE_SUFFIX}`;
      await removeSidecar(file.path);
      await rename(file.path, aside);
      log.warn({ role: file.role, path: file.path, movedTo: aside, url: file.url, reason: err.message },
        'a cached model file failed to load: moved it aside, fetching it again');
    }
    const again = await resolvePack(req, log);
    return { pack: again, value: await load(again) };
  }
}
