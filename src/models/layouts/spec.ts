import type { PackFileInfo } from '../types.js';

export type Role = PackFileInfo['role'];
export const ROLES: readonly Role[] = ['detection', 'recognition'];

/** Where one file of a pack may be: the places are tried in order, local first. */
export interface FileSpec {
  role: Role;
  /** For messages, e.g. "model file detection.onnx of pack x (onnxrt/fp16)". */
  what: string;
  /** Candidate paths in LUMEN_FACE_LOCAL_DIR (empty when it is not set). */
  local: string[];
  /** Path in the cache. */
  cache: string;
  /** Where it is downloaded from. */
  url: string;
  /** A line added to the error when the file is nowhere, e.g. which SoC folders do exist. */
  hint?: () => Promise<string | undefined>;
}
