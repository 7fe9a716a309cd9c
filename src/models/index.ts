export type { PackFileInfo, PackLayout, PackRequest, ResolvedPack } from './types.js';
export { PACK_LAYOUTS, PRECISIONS, RUNTIMES, type Precision, type Runtime } from './names.js';
export { resolvePack } from './resolve.js';
export { packFileUrl } from './url.js';
export { loadWithHealing } from './heal.js';
