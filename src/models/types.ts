/** Where one model file of a pack came from (see src/models). */
export interface PackFileInfo {
  role: 'detection' | 'recognition';
  path: string;
  source: 'local' | 'cache' | 'remote';
  url?: string;
  size: number;
  sha256: string;
}

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
