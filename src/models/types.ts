/** Where one model file of a pack came from (see src/models). */
export interface PackFileInfo {
  role: 'detection' | 'recognition';
  path: string;
  source: 'local' | 'cache' | 'remote';
  url?: string;
  size: number;
  sha256: string;
}

import type { PackLayout, Runtime } from './names.js';

export { PACK_LAYOUTS, type PackLayout } from './names.js';

export interface PackRequest {
  model: string;
  runtime: Runtime;
  precision: string;
  /** `auto` (the default) recognises a local folder by its files, the immich-app organisation as immich, else lumen. */
  layout?: PackLayout | 'auto';
  localDir?: string;
  cacheDir: string;
  repoBase: string;
  /**
   * Whether a missing file may be downloaded from `repoBase` (default true). False when a local directory is
   * given and no remote source is: a local directory never touches the network unless one is asked for.
   */
  remote?: boolean;
  revision: string;
  offline: boolean;
  hfToken?: string;
  /** Value of HF_ENDPOINT, if set: its host counts as a Hugging Face host. */
  hfEndpoint?: string;
  /** Bounds connecting and any stall mid-body, not the whole download. */
  timeoutMs: number;
  /** immich RKNN files sit in a folder per SoC: `rknn_target`, else read from `compatiblePath`. */
  soc?: string;
  /** Download progress for a progress bar; the log gets a line at most every `progressEveryMs` (default 5 s). */
  onProgress?: (progress: { url: string; received: number; total?: number }) => void;
  progressEveryMs?: number;
  /** Default /proc/device-tree/compatible. */
  compatiblePath?: string;
}

export interface ResolvedPack {
  model: string;
  runtime: string;
  precision: string;
  layout: PackLayout;
  detection: PackFileInfo;
  recognition: PackFileInfo;
  /** The layout's own facts about the files (e.g. the SoC folder used, the insightface roles). */
  notes: string[];
  /** immich's .rknn conversions take the normalised float tensor (no mean/std baked in). */
  rknnInput?: 'normalised';
}
