import type { PackFileInfo } from '../backends/engine.js';

export interface PackRequest {
  model: string;
  runtime: 'onnxrt' | 'rknn';
  precision: string;
  localDir?: string;
  cacheDir: string;
  repoBase: string;
  revision: string;
  offline: boolean;
  hfToken?: string;
  /** Value of HF_ENDPOINT, if set: its host counts as a Hugging Face host. */
  hfEndpoint?: string;
  /** Bounds connecting and any stall mid-body, not the whole download. */
  timeoutMs: number;
}

export interface ResolvedPack {
  model: string;
  runtime: string;
  precision: string;
  detection: PackFileInfo;
  recognition: PackFileInfo;
}
