import { randomBytes } from 'node:crypto';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { TEMP_SUFFIX } from './download.js';
import { hashFile } from './sha256.js';

/** Written only after a verified download: its presence is what makes a cached file trusted. */
export interface Sidecar {
  size: number;
  sha256: string;
  url: string;
  downloadedAt: string;
}

export const sidecarPath = (file: string) => `${file}.meta.json`;

export type CacheCheck = { ok: true; size: number; sha256: string; url: string } | { ok: false; reason: string };

async function readSidecar(file: string): Promise<Sidecar | 'missing' | 'invalid'> {
  let text: string;
  try {
    text = await readFile(sidecarPath(file), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw err;
  }
  try {
    const s = JSON.parse(text) as Partial<Sidecar>;
    if (typeof s.size === 'number' && typeof s.sha256 === 'string' && typeof s.url === 'string') return s as Sidecar;
  } catch {
    // fall through
  }
  return 'invalid';
}

export async function checkCached(file: string): Promise<CacheCheck> {
  try {
    const st = await stat(file);
    if (!st.isFile()) return { ok: false, reason: 'not a regular file' };
    const meta = await readSidecar(file);
    if (meta === 'missing') return { ok: false, reason: 'incomplete: no metadata' };
    if (meta === 'invalid') return { ok: false, reason: 'incomplete: unreadable metadata' };
    if (meta.size !== st.size) return { ok: false, reason: `incomplete: ${st.size} bytes, expected ${meta.size}` };
    const digest = await hashFile(file);
    if (digest.sha256 !== meta.sha256) return { ok: false, reason: `corrupt: sha256 ${digest.sha256}, expected ${meta.sha256}` };
    return { ok: true, size: digest.size, sha256: digest.sha256, url: meta.url };
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ENOENT') return { ok: false, reason: 'not found' };
    return { ok: false, reason: `unreadable: ${e.message}` };
  }
}

export async function writeSidecar(file: string, meta: Sidecar): Promise<void> {
  const tmp = `${sidecarPath(file)}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`;
  try {
    await writeFile(tmp, `${JSON.stringify(meta, null, 2)}\n`);
    await rename(tmp, sidecarPath(file));
  } finally {
    await rm(tmp, { force: true });
  }
}

export async function removeSidecar(file: string): Promise<void> {
  await rm(sidecarPath(file), { force: true });
}

/**
 * Removes temporary files a crashed download left next to `file`. Age is the only safe test:
 * a live writer keeps touching its file, and its pid may live in another host or container.
 */
export async function removeStaleTemps(file: string, staleMs: number): Promise<string[]> {
  const dir = dirname(file);
  const prefix = `${basename(file)}.`;
  const removed: string[] = [];
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return removed;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(TEMP_SUFFIX)) continue;
    const p = join(dir, name);
    try {
      if (Date.now() - (await stat(p)).mtimeMs > staleMs) {
        await rm(p, { force: true });
        removed.push(p);
      }
    } catch {
      // already gone
    }
  }
  return removed;
}
