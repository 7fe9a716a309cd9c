import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { PackLayout, PackRequest } from '../types.js';
import { repoOrganisationIs } from '../url.js';
import { IMMICH_MARKERS, IMMICH_ORGANISATION, IMMICH_TASK_FOLDER } from './immich.js';
import { looksLikeInsightface } from './insightface.js';
import { LUMEN_MARKERS } from './lumen.js';

const isDir = (path: string) =>
  stat(path).then(
    (s) => s.isDirectory(),
    () => false,
  );
const anyDir = async (dir: string, names: readonly string[]) => (await Promise.all(names.map((n) => isDir(join(dir, n))))).some(Boolean);

/** The layout of the folder `{root}/{model}` by its files, or undefined when there is no such folder. */
export async function recogniseFolder(root: string, model: string): Promise<PackLayout | undefined> {
  const dir = resolve(root, model);
  if (await anyDir(dir, LUMEN_MARKERS)) return 'lumen';
  if ((await anyDir(dir, IMMICH_MARKERS)) || (await isDir(resolve(root, IMMICH_TASK_FOLDER, model)))) return 'immich';
  if (await looksLikeInsightface(dir)) return 'insightface';
  return undefined;
}

/**
 * `auto`: a local (or cached) folder is recognised by its files; otherwise the immich-app
 * organisation means immich; everything else is Lumen's own layout.
 */
export async function chooseLayout(req: PackRequest): Promise<PackLayout> {
  if (req.layout && req.layout !== 'auto') return req.layout;
  for (const root of [req.localDir, req.cacheDir]) {
    if (!root) continue;
    const found = await recogniseFolder(root, req.model);
    if (found) return found;
  }
  return repoOrganisationIs(req, IMMICH_ORGANISATION) ? 'immich' : 'lumen';
}
