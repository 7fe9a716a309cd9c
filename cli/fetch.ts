import { packRequest } from '../src/backend.js';
import { LumenError } from '../src/errors.js';
import { loadWithHealing, resolvePack, type ResolvedPack } from '../src/models/index.js';
import { readGraphSignature } from '../src/models/onnx-graph.js';
import { PACK_FLAGS, PACK_FLAGS_HELP, loadPackConfig, parseFlags } from './args.js';
import { quietLogger } from './output.js';
import { progressReporter } from './progress.js';
import { describeFiles } from './report.js';

export const FETCH_HELP = `Usage: lumen-face fetch [--model NAME] [--precision P] [--runtime R] [--layout L]

Downloads a pack into the cache (LUMEN_FACE_CACHE_DIR), verifies it and prints where it is.
Run it in a Docker build step or an init container; the service then starts offline.
Every LUMEN_FACE_* variable applies; the flags override their variable.

${PACK_FLAGS_HELP}
  -h, --help          this help

Exit codes: 0 fetched and verified, 1 not found or not loadable, 2 bad flag or variable.`;

/** ONNX graphs must open; an .rknn file can only be opened on its NPU, so its verified hash must do. */
async function verify(pack: ResolvedPack): Promise<void> {
  if (pack.runtime !== 'onnxrt') return;
  for (const file of [pack.detection, pack.recognition]) {
    try {
      await readGraphSignature(file.path);
    } catch (err) {
      throw new LumenError('MODEL_LOAD_FAILED', `${file.path} is not a loadable ONNX graph: ${(err as Error).message.split('\n')[0]}`, { cause: err });
    }
  }
}

export async function fetchCommand(args: string[]): Promise<number> {
  const { values } = parseFlags(args, PACK_FLAGS, 'fetch');
  if (values.help) {
    process.stdout.write(`${FETCH_HELP}\n`);
    return 0;
  }
  const config = loadPackConfig(values);
  const progress = progressReporter();
  const log = quietLogger();
  // fetch is asked to download: it does even when LUMEN_FACE_LOCAL_DIR lacks the pack and names no remote source.
  const request = { ...packRequest(config), remote: true, onProgress: progress.onProgress, progressEveryMs: Number.POSITIVE_INFINITY };
  try {
    const resolved = await resolvePack(request, log);
    const { pack } = await loadWithHealing(request, resolved, async (p) => verify(p), log);
    progress.stop();
    const verified = pack.runtime === 'onnxrt' ? 'both graphs load' : 'sha256 recorded, the NPU loads it at start';
    // A pack found in LUMEN_FACE_LOCAL_DIR is read from there by the service too: copying it would only
    // leave two copies to keep in step.
    const local = pack.detection.source === 'local' && pack.recognition.source === 'local';
    const where = local
      ? `local: the service reads this pack from LUMEN_FACE_LOCAL_DIR (${config.localDir}); nothing to copy into the cache`
      : `cache: ${config.cacheDir}`;
    process.stdout.write(`${[...describeFiles(pack), `verified: ${verified}`, where].join('\n')}\n`);
    return 0;
  } finally {
    progress.stop();
  }
}
