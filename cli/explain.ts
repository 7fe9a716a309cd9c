import type { Config } from '../src/config.js';
import { LumenError } from '../src/errors.js';

/**
 * Start-up failures written for a person: what failed, every place tried on its own line (the
 * network error once, inside its line), and what to do next. Printed to stderr as text even when
 * the log is JSON.
 */

const PACK_MISSING = new Set(['MODEL_NOT_FOUND', 'MODEL_DOWNLOAD_FAILED']);

function nextSteps(config: Pick<Config, 'modelName' | 'runtime' | 'precision'>): string[] {
  return [
    `set LUMEN_FACE_LOCAL_DIR to a folder with the pack (for example {dir}/${config.modelName}/${config.runtime}/${config.precision}/detection.${config.runtime === 'rknn' ? 'rknn' : 'onnx'} and recognition.*)`,
    'or run `npx lumen-face fetch` where the network is reachable (it fills the cache, LUMEN_FACE_CACHE_DIR, which this machine can then use offline)',
    'or use an immich or insightface pack (`LUMEN_FACE_MODEL_NAME=buffalo_l LUMEN_FACE_REPO_BASE=https://huggingface.co/immich-app`); see README "Models"',
  ];
}

export function explainStartupError(err: unknown, config?: Pick<Config, 'modelName' | 'runtime' | 'precision'>): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof LumenError ? err.code : undefined;
  const lines = ['lumen-face could not start: the model pack could not be loaded.', ''];
  // "... not found:" / "... could not be downloaded:" is followed by one line per place tried.
  lines.push(...message.split('\n').map((l, i) => (i === 0 ? l.replace(/( not found| could not be downloaded):$/, '$1. Places tried:') : l)));
  if (code && PACK_MISSING.has(code) && config) {
    lines.push('', 'What to do next:', ...nextSteps(config).map((s) => `  - ${s}`));
  } else if (code === 'MODEL_LOAD_FAILED') {
    lines.push('', 'The files were found but could not be loaded. `npx lumen-face check` prints what was found and where it came from.');
  }
  return lines.join('\n') + '\n';
}
