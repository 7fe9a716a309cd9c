export type { PackRequest, ResolvedPack } from './types.js';
export { resolvePack } from './resolve.js';
export { packFileUrl } from './url.js';
