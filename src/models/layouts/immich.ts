import { readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { readRockchipSocs } from '../../engines/rknn/board.js';
import { LumenError } from '../../errors.js';
import type { PackRequest } from '../types.js';
import { repoFileUrl } from '../url.js';
import { ROLES, type FileSpec, type Role } from './spec.js';

/**
 * immich's layout, as its machine-learning code reads it (immich_ml/models/base.py,
 * immich_ml/sessions/rknn/__init__.py, export/immich_model_exporter/exporters/rknn.py):
 *   {pack}/detection/model.onnx, {pack}/recognition/model.onnx
 *   {pack}/{detection|recognition}/rknpu/{soc}/model.rknn
 * Its own cache keeps a pack at {cache}/facial-recognition/{name}/, with a {revision}/ folder in
 * between only when the revision is not `main`.
 */

/** The SoCs immich's runtime recognises (RKNN_SUPPORTED_SOCS in immich_ml/models/constants.py). */
export const IMMICH_SOCS = ['rk3566', 'rk3568', 'rk3576', 'rk3588'] as const;
export const IMMICH_TASK_FOLDER = 'facial-recognition';
export const IMMICH_ORGANISATION = 'immich-app';

const DEFAULT_COMPATIBLE = '/proc/device-tree/compatible';

/** RK3566 and RK3568 share one NPU, so either's conversion runs on both. */
const siblings: Record<string, string> = { rk3566: 'rk3568', rk3568: 'rk3566' };

const socList = () => IMMICH_SOCS.join(', ');

/** The SoC folder to use: `rknn_target`, else the first immich SoC the device tree names, as immich does. */
export async function immichSoc(req: PackRequest): Promise<string> {
  if (req.soc) {
    const soc = req.soc.trim().toLowerCase();
    if (!(IMMICH_SOCS as readonly string[]).includes(soc)) {
      throw new LumenError('INVALID_MODEL_REQUEST', `immich publishes RKNN conversions for ${socList()}, not for rknn_target ${JSON.stringify(req.soc)}`);
    }
    return soc;
  }
  const path = req.compatiblePath ?? DEFAULT_COMPATIBLE;
  const socs = await readRockchipSocs(path);
  const soc = IMMICH_SOCS.find((s) => socs?.includes(s));
  if (soc) return soc;
  const board = socs === undefined ? `${path} cannot be read` : socs.length ? `${path} names ${socs.join(', ')}` : `${path} names no Rockchip SoC`;
  throw new LumenError(
    'INVALID_MODEL_REQUEST',
    `immich keeps its RKNN files in a folder per SoC and ${board}: ` +
      `set rknn_target in LUMEN_FACE_EXTRA to one of ${socList()} (immich has conversions for those only)`,
  );
}

const revisionFolder = (req: PackRequest) => (req.revision && req.revision !== 'main' ? [req.revision] : []);

function tail(req: PackRequest, role: Role, soc: string | undefined): string {
  return req.runtime === 'rknn' ? `${role}/rknpu/${soc}/model.rknn` : `${role}/model.onnx`;
}

/** SoC folders present under `{packDir}/detection/rknpu/`. */
async function socFolders(packDir: string): Promise<string[]> {
  try {
    return (await readdir(join(packDir, 'detection', 'rknpu'), { withFileTypes: true }))
      .filter((d) => d.isDirectory())
      .map((d) => d.name)
      .sort();
  } catch {
    return [];
  }
}

export async function immichFiles(req: PackRequest): Promise<FileSpec[]> {
  const soc = req.runtime === 'rknn' ? await immichSoc(req) : undefined;
  const rev = revisionFolder(req);
  // LUMEN_FACE_LOCAL_DIR may hold the packs themselves or be an immich model cache.
  const localPackDirs = req.localDir ? [resolve(req.localDir, req.model, ...rev), resolve(req.localDir, IMMICH_TASK_FOLDER, req.model, ...rev)] : [];
  const cachePackDir = resolve(req.cacheDir, req.model, ...rev);
  const socs = soc ? [soc, ...(siblings[soc] ? [siblings[soc]] : [])] : [undefined];
  return ROLES.map((role) => ({
    role,
    what: `model file ${tail(req, role, soc)} of immich pack ${req.model}`,
    local: localPackDirs.flatMap((dir) => socs.map((s) => join(dir, tail(req, role, s)))),
    cache: join(cachePackDir, tail(req, role, soc)),
    url: repoFileUrl(req, tail(req, role, soc)),
    hint: soc
      ? async () => {
          const found = [...new Set((await Promise.all([...localPackDirs, cachePackDir].map(socFolders))).flat())];
          return (
            `no RKNN conversion for ${soc}: ${found.length ? `the SoC folders found are ${found.join(', ')}` : 'no SoC folder was found on disk'}; ` +
            `immich's repositories convert for ${socList()}`
          );
        }
      : undefined,
  }));
}

/** A folder in immich's layout has detection/ and recognition/ folders. */
export const IMMICH_MARKERS = ['detection', 'recognition'];
