import { resolve } from 'node:path';
import { RUNTIMES } from '../names.js';
import type { PackRequest } from '../types.js';
import { packFileUrl } from '../url.js';
import { ROLES, type FileSpec } from './spec.js';

export const EXT: Record<PackRequest['runtime'], string> = { onnxrt: 'onnx', rknn: 'rknn' };

/** Lumen's own layout: `{model}/{runtime}/{precision}/{detection|recognition}.{onnx|rknn}`, the same everywhere. */
export function lumenFiles(req: PackRequest): FileSpec[] {
  return ROLES.map((role) => {
    const file = `${role}.${EXT[req.runtime]}`;
    const segments = [req.model, req.runtime, req.precision, file];
    return {
      role,
      what: `model file ${file} of pack ${req.model} (${req.runtime}/${req.precision})`,
      local: req.localDir ? [resolve(req.localDir, ...segments)] : [],
      cache: resolve(req.cacheDir, ...segments),
      url: packFileUrl(req, file),
    };
  });
}

/** A folder that holds `{runtime}/` (or any runtime) under the pack name is in this layout. */
export const LUMEN_MARKERS: readonly string[] = RUNTIMES;
