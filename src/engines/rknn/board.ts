import { readFile } from 'node:fs/promises';

/** Rockchip SoCs named in a device-tree `compatible` file (NUL-separated), or undefined without one. */
export async function readRockchipSocs(path: string): Promise<string[] | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'latin1');
  } catch {
    return undefined;
  }
  return text
    .split('\0')
    .map((entry) => /^rockchip,(r[kv]\d{4}[a-z]?)$/i.exec(entry.trim())?.[1]?.toLowerCase())
    .filter((soc): soc is string => soc !== undefined);
}

/** SoCs that share an NPU run the same .rknn files (rknn-toolkit2 targets rk3566 and rk3568 alike). */
export function npuFamily(soc: string): string {
  const s = soc.toLowerCase();
  if (s === 'rk3566' || s === 'rk3568') return 'rk356x';
  if (s.startsWith('rk3588')) return 'rk3588';
  if (s === 'rv1103' || s === 'rv1106') return 'rv110x';
  return s;
}

/** Only RK3576 and RK3588 accept rknn_set_core_mask. */
export const acceptsCoreMask = (soc: string) => ['rk3576', 'rk3588'].includes(npuFamily(soc));
