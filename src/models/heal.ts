import { rename } from 'node:fs/promises';
import { LumenError } from '../errors.js';
import type { Logger } from '../types.js';
import { removeSidecar } from './cache.js';
import { readGraphSignature } from './onnx-graph.js';
import { resolvePack } from './resolve.js';
import type { PackFileInfo, PackRequest, ResolvedPack } from './types.js';

export const ASIDE_SUFFIX = '.bad';

type Broken = { file: PackFileInfo; reason: string };

/** ONNX Runtime's message without its own path and source location: the file is named by the caller. */
export function graphFailure(file: Pick<PackFileInfo, 'path' | 'size'>, err: unknown): string {
  if (file.size === 0) return 'the file is empty (0 bytes)';
  const first = (err as Error).message.split('\n')[0];
  const reason = first
    .replace(/^Load model from .* failed:/, '')
    .replace(/^\S+\.(?:cc|h):\d+ .*?\) /, '')
    .trim();
  return reason ? `not a complete ONNX graph (${reason})` : 'not a complete ONNX graph';
}

/**
 * ONNX files that ONNX Runtime cannot open, checked in this thread before any worker opens them: a
 * worker that fails to load a graph fails differently run to run (an error event, or an abort when the
 * pool is torn down while a sibling is still inside ONNX Runtime).
 */
async function brokenGraphs(pack: ResolvedPack, which: 'local' | 'fetched'): Promise<Broken[]> {
  const broken: Broken[] = [];
  for (const file of [pack.detection, pack.recognition]) {
    if ((file.source === 'local') !== (which === 'local')) continue;
    try {
      await readGraphSignature(file.path);
    } catch (err) {
      broken.push({ file, reason: graphFailure(file, err) });
    }
  }
  return broken;
}

/** A local file is the operator's: it is never moved or replaced, so say which one and what to do. */
const brokenLocal = (broken: Broken[]) =>
  new LumenError(
    'MODEL_LOAD_FAILED',
    [
      ...broken.map(({ file, reason }) => `${file.role} graph ${file.path} (in LUMEN_FACE_LOCAL_DIR) does not load: ${reason}`),
      `Replace ${broken.length > 1 ? 'these files' : 'this file'} with a good copy, or remove ${broken.length > 1 ? 'them' : 'it'} to use the cache or a download (\`npx lumen-face fetch\`).`,
    ].join('\n'),
  );

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
    log.warn(
      { role: file.role, path: file.path, movedTo: aside, url: file.url, reason },
      'a cached model file failed to load: moved it aside, fetching it again',
    );
  }
}

const unloadable = (broken: Broken[], after: string) =>
  new LumenError(
    'MODEL_LOAD_FAILED',
    broken.map(({ file, reason }) => `${file.path}${file.url ? ` (from ${file.url})` : ''} does not load${after}: ${reason}`).join('\n'),
  );

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
    const local = await brokenGraphs(pack, 'local');
    if (local.length) throw brokenLocal(local);
    const broken = await brokenGraphs(pack, 'fetched');
    if (broken.length === 0) return { pack, value: await load(pack) };
    if (req.offline) throw unloadable(broken, ' and offline mode forbids fetching it again (run `lumen-face fetch`)');
    await moveAside(broken, log);
    const again = await resolvePack(req, log);
    const still = [...(await brokenGraphs(again, 'local')), ...(await brokenGraphs(again, 'fetched'))];
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
