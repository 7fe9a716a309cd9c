export type { PackFileInfo, PackLayout, PackRequest, ResolvedPack } from './types.js';
export { PACK_LAYOUTS } from './types.js';
export { resolvePack } from './resolve.js';
export { packFileUrl } from './url.js';
export { loadWithHealing } from './heal.js';
