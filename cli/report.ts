import type { PackFileInfo, ResolvedPack } from '../src/models/index.js';

/** The files of a pack, one block per role: path, source, size and sha256. */
export function describeFiles(pack: ResolvedPack): string[] {
  const file = (f: PackFileInfo) => [`  ${f.role}: ${f.path}`, `    from ${f.source}${f.url ? ` (${f.url})` : ''}, ${f.size} bytes, sha256 ${f.sha256}`];
  return [
    `pack ${pack.model} (${pack.layout} layout, ${pack.runtime}${pack.layout === 'lumen' ? `/${pack.precision}` : ''})`,
    ...file(pack.detection),
    ...file(pack.recognition),
    ...pack.notes.map((n) => `  ${n}`),
  ];
}
