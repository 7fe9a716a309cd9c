import type { Config } from '../src/config.js';
import { type ErrorCode, LumenError } from '../src/errors.js';

/**
 * Start-up and command failures written for a person: what failed, every place tried on its own line
 * (the network error once, inside its line), and what to do next. Printed to stderr as text even when
 * the log is JSON.
 */

/** What failed, by error code: the headline names the cause, not a guess. */
const WHAT_FAILED: Partial<Record<ErrorCode, string>> = {
  MODEL_NOT_FOUND: 'the model pack could not be found',
  MODEL_DOWNLOAD_FAILED: 'the model pack could not be downloaded',
  MODEL_READ_FAILED: 'a file of the model pack could not be read',
  MODEL_LOAD_FAILED: 'the model pack could not be loaded',
  INVALID_MODEL_REQUEST: 'the requested model pack is not valid',
  RKNN_UNAVAILABLE: 'the RKNN runtime is not available',
  RKNN_TARGET_MISMATCH: 'the RKNN pack was built for another SoC',
  RKNN_RUN_FAILED: 'the NPU runtime failed a run',
  INVALID_OPTION: 'an option is out of range',
};

const PACK_MISSING = new Set<ErrorCode>(['MODEL_NOT_FOUND', 'MODEL_DOWNLOAD_FAILED']);

type PackConfig = Pick<Config, 'modelName' | 'runtime' | 'precision'> & Partial<Pick<Config, 'packLayout' | 'repoBase'>>;

/** Where the pack's detection file would sit in LUMEN_FACE_LOCAL_DIR, in the layout asked for. */
function localExample(config: PackConfig): string {
  if (config.packLayout === 'immich') {
    const file = config.runtime === 'rknn' ? 'detection/rknpu/{soc}/model.rknn' : 'detection/model.onnx';
    return `{dir}/${config.modelName}/${file} and recognition/...`;
  }
  return `{dir}/${config.modelName}/${config.runtime}/${config.precision}/detection.${config.runtime === 'rknn' ? 'rknn' : 'onnx'} and recognition.*`;
}

function nextSteps(config: PackConfig, command: string | undefined): string[] {
  const steps = [`set LUMEN_FACE_LOCAL_DIR to a folder with the pack (for example ${localExample(config)})`];
  // After a failed fetch, suggesting fetch again would send the user round in a circle.
  steps.push(
    command === 'fetch'
      ? `or check that ${config.repoBase ?? 'LUMEN_FACE_REPO_BASE'} holds this pack and that this machine reaches it (LUMEN_FACE_REPO_BASE, LUMEN_FACE_REVISION)`
      : 'or run `lumen-face fetch` (in a clone: `npm run cli -- fetch`) where the network is reachable (it fills the cache, LUMEN_FACE_CACHE_DIR, which this machine can then use offline)',
  );
  steps.push(
    config.packLayout === 'immich'
      ? 'or use a lumen pack (`LUMEN_FACE_MODEL_NAME=scrfd_10g_iresnet50`, the default layout and repository); see docs/models.md'
      : 'or use an immich or insightface pack (`LUMEN_FACE_MODEL_NAME=buffalo_l LUMEN_FACE_PACK_LAYOUT=immich`, from https://huggingface.co/immich-app); see docs/models.md',
  );
  return steps;
}

/**
 * `command` is what failed: undefined for the server's start-up ("lumen-face could not start"), or
 * a command name ("lumen-face check failed").
 */
export function explainStartupError(err: unknown, config?: PackConfig, command?: string): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = err instanceof LumenError ? err.code : undefined;
  const what = (code && WHAT_FAILED[code]) ?? 'an unexpected error';
  const lines = [`${command ? `lumen-face ${command} failed` : 'lumen-face could not start'}: ${what}.`, ''];
  // "... not found:" / "... could not be downloaded:" is followed by one line per place tried.
  lines.push(...message.split('\n').map((l, i) => (i === 0 ? l.replace(/( not found| could not be downloaded):$/, '$1. Places tried:') : l)));
  if (code && PACK_MISSING.has(code) && config) {
    lines.push('', 'What to do next:', ...nextSteps(config, command).map((s) => `  - ${s}`));
  } else if (code === 'MODEL_LOAD_FAILED') {
    lines.push(
      '',
      command === 'check'
        ? 'The files were found but could not be loaded.'
        : 'The files were found but could not be loaded. `lumen-face check` prints what was found and where it came from.',
    );
  }
  return `${lines.join('\n')}\n`;
}
