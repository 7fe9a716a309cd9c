import { rename } from 'node:fs/promises';
import { LumenError } from '../errors.js';
import type { Logger } from '../types.js';
import { removeSidecar } from './cache.js';
import { readGraphSignature } from './onnx-graph.js';
import { resolvePack } from './resolve.js';
import type { PackFileInfo, PackRequest, ResolvedPack } from './types.js';

export const ASIDE_SUFFIX = '.bad';

type Broken = { file: PackFileInfo; reason: string };

/** Downloaded ONNX files that ONNX Runtime cannot open, checked before any engine starts. */
async function brokenGraphs(pack: ResolvedPack): Promise<Broken[]> {
  const broken: Broken[] = [];
  for (const file of [pack.detection, pack.recognition]) {
    if (file.source === 'local') continue;
    try {
      await readGraphSignature(file.path);
    } catch (err) {
      broken.push({ file, reason: (err as Error).message.split('\n')[0] });
    }
  }
  return broken;
}

/** RKNN files can only be opened by the engine, which names the file it could not load. */
function brokenRknn(pack: ResolvedPack, error: unknown): Broken[] {
  const message = error instanceof LumenError && error.code === 'MODEL_LOAD_FAILED' ? error.message : '';
  return [pack.detection, pack.recognition]
    .filter((f) => f.source !== 'local' && /could not load/.test(message) && message.includes(f.path))
    .map((file) => ({ file, reason: message }));
}

async function moveAside(broken: Broken[], log: Logger): Promise<void> {
  for (const { file, reason } of broken) {
    const aside = `${file.path}${ASIDE_SUFFIX}`;
    await removeSidecar(file.path);
    await rename(file.path, aside);
    log.warn({ role: file.role, path: file.path, movedTo: aside, url: file.url, reason }, 'a cached model file failed to load: moved it aside, fetching it again');
  }
}

const unloadable = (broken: Broken[], after: string) =>
  new LumenError('MODEL_LOAD_FAILED', broken.map(({ file, reason }) => `${file.path}${file.url ? ` (from ${file.url})` : ''} does not load${after}: ${reason}`).join('\n'));

/**
 * Loads the pack with `load`. A file that came from the cache (or was just downloaded) and does not
 * load is moved aside and fetched again, once, with a log line; a second failure is an error.
 * A file in LUMEN_FACE_LOCAL_DIR, or an insightface folder, is never touched.
 */
export async function loadWithHealing<T>(
  req: PackRequest,
  pack: ResolvedPack,
  load: (pack: ResolvedPack) => Promise<T>,
  log: Logger,
): Promise<{ pack: ResolvedPack; value: T }> {
  if (pack.layout === 'insightface') return { pack, value: await load(pack) };
  if (req.runtime === 'onnxrt') {
    const broken = await brokenGraphs(pack);
    if (broken.length === 0) return { pack, value: await load(pack) };
    if (req.offline) throw unloadable(broken, ' and offline mode forbids fetching it again (run `lumen-face fetch`)');
    await moveAside(broken, log);
    const again = await resolvePack(req, log);
    const still = await brokenGraphs(again);
    if (still.length) throw unloadable(still, ', even fetched again');
    return { pack: again, value: await load(again) };
  }
  try {
    return { pack, value: await load(pack) };
  } catch (err) {
    const broken = brokenRknn(pack, err);
    if (broken.length === 0 || req.offline) throw err;
    await moveAside(broken, log);
    const again = await resolvePack(req, log);
    return { pack: again, value: await load(again) };
  }
}
