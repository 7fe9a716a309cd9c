/**
 * The names a pack is addressed by, written once: the configuration, the resolver, the engines, the
 * layouts and the HTTP schemas import these lists (and derive their enums from them).
 */

export const RUNTIMES = ['onnxrt', 'rknn'] as const;
export type Runtime = (typeof RUNTIMES)[number];

export const PRECISIONS = ['fp16', 'int8', 'fp32'] as const;
export type Precision = (typeof PRECISIONS)[number];

/** How a pack's files are named: Lumen's own, immich's Hugging Face repositories, or an insightface folder. */
export const PACK_LAYOUTS = ['lumen', 'immich', 'insightface'] as const;
export type PackLayout = (typeof PACK_LAYOUTS)[number];

// A name becomes one path segment and one URL segment: nothing that could climb out of a directory.
const SEGMENT = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** What a pack name (or any path segment of a pack) may be, in words, for messages. */
export const PACK_NAME_EXPECTED = 'a pack name of letters, digits, ".", "_" and "-" (no "/" and no ".."), such as scrfd_2.5g_mbf or buffalo_l';

/** What any other segment of a pack's path (a precision, a folder) may be, in words, for messages. */
export const SEGMENT_EXPECTED = 'a name of letters, digits, ".", "_" and "-", starting with a letter or digit, without ".."';

export const isSafeSegment = (s: string): boolean => SEGMENT.test(s) && !s.includes('..');
