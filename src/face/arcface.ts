import type { Point } from '../types.js';

/**
 * What the ArcFace family of recognizers expects and gives, for every engine: insightface's
 * arcface_onnx.py and the PaddleX MobileFaceNet config agree on RGB, (x - 127.5) / 127.5, NCHW.
 */

export const ARCFACE_NORM = { mean: 127.5, std: 127.5 } as const;

/** ArcFace 112x112 landmark template (insightface face_align.arcface_dst). */
export const ARCFACE_TEMPLATE_112: readonly Point[] = Object.freeze([
  [38.2946, 51.6963],
  [73.5318, 51.5014],
  [56.0252, 71.7366],
  [41.5493, 92.3655],
  [70.7299, 92.2041],
] as Point[]);

/** The template scaled to a recognition input of width x height. */
export function arcfaceTemplate(width: number, height: number): Point[] {
  const sx = width / 112;
  const sy = height / 112;
  return ARCFACE_TEMPLATE_112.map(([x, y]): Point => [x * sx, y * sy]);
}

/** An output as a graph declares it; a dimension is null (or a name) where it is dynamic. */
export interface DeclaredOutput {
  name: string;
  dims: readonly (number | string | null)[];
}

/** Embedding sizes of real ArcFace-family models are 128 to 512; this bound keeps logits and feature maps out. */
const MAX_EMBEDDING_DIM = 4096;

/** Values per image of an output, when every dimension after the batch is declared. */
function sizePerImage(output: DeclaredOutput): number | undefined {
  const rest = output.dims.slice(1);
  if (rest.length === 0 || !rest.every((d) => typeof d === 'number' && d > 0)) return undefined;
  return (rest as number[]).reduce((a, b) => a * b, 1);
}

/** One vector per image: [N, D], or [N, D, 1, 1] as some exports write it. */
function isEmbeddingShaped(output: DeclaredOutput): boolean {
  const size = sizePerImage(output);
  if (size === undefined || size < 2 || size > MAX_EMBEDDING_DIM) return false;
  return output.dims.slice(1).filter((d) => d !== 1).length === 1;
}

const describeOutput = (o: DeclaredOutput) => `"${o.name}" [${o.dims.map((d) => (typeof d === 'number' ? d : 'N')).join(', ')}]`;

/**
 * Which output of a recognizer is the embedding, by what the graph declares: the one output that holds
 * one vector per image. A single output is taken as it is; several that fit, or none, are refused.
 */
export function embeddingOutputIndex(outputs: readonly DeclaredOutput[]): number {
  if (outputs.length === 1) return 0;
  const candidates = outputs.flatMap((o, i) => (isEmbeddingShaped(o) ? [i] : []));
  if (candidates.length === 1) return candidates[0];
  const found = outputs.map(describeOutput).join(', ');
  throw new Error(
    candidates.length === 0
      ? `the recognition model has no embedding output: expected one output of shape [N, D], received ${found}`
      : `the recognition model has ${candidates.length} outputs that could be the embedding: expected exactly one output of shape [N, D], received ${found}`,
  );
}
