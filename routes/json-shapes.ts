import { z } from 'zod';
import type { Box, EmbeddedFace, Landmarks, QualifiedFace } from '../src/index.js';

/** How embeddings are written: JSON numbers (default), or base64 of little-endian float32. */
export const embeddingFormatQuery = z.object({
  embedding_format: z
    .enum(['json', 'base64'])
    .default('json')
    .describe('`json`: an array of numbers. `base64`: the float32 values, little-endian, in base64 (a third of the size; see docs/input.md).'),
});
export type EmbeddingFormat = z.output<typeof embeddingFormatQuery>['embedding_format'];

/**
 * Float32 values with 9 significant digits, which always read back as the same float32, instead of
 * the 17-digit doubles JSON would print: about 40% less JSON, no precision lost.
 */
export const toNumbers = (vector: Float32Array): number[] => Array.from(vector, (x) => Number(x.toPrecision(9)));

/** The exact bytes, little-endian whatever the host's order, so any client decodes them the same. */
export function toBase64(vector: Float32Array): string {
  const bytes = Buffer.alloc(vector.length * 4);
  for (let i = 0; i < vector.length; i++) bytes.writeFloatLE(vector[i], i * 4);
  return bytes.toString('base64');
}

export const embeddingJson = (vector: Float32Array, format: EmbeddingFormat): number[] | string => (format === 'base64' ? toBase64(vector) : toNumbers(vector));

const round = (x: number, decimals: number) => {
  const scale = 10 ** decimals;
  return Math.round(x * scale) / scale;
};

/** Pixel coordinates with 2 decimals: a hundredth of a pixel is finer than any detector's error. */
export const pixelBox = (box: Box): Box => box.map((x) => round(x, 2)) as Box;
export function pixelLandmarks(landmarks: Landmarks): Landmarks;
export function pixelLandmarks(landmarks: Landmarks | null): Landmarks | null;
export function pixelLandmarks(landmarks: Landmarks | null): Landmarks | null {
  return landmarks && (landmarks.map(([x, y]) => [round(x, 2), round(y, 2)]) as Landmarks);
}
/** Scores and similarities with 4 decimals. */
export const roundedScore = (score: number): number => round(score, 4);

/** A detected face as JSON: rounded box, score and landmarks. */
export const detectedFaceJson = (face: QualifiedFace) => ({
  box: pixelBox(face.box),
  score: roundedScore(face.score),
  landmarks: pixelLandmarks(face.landmarks),
  quality: face.quality,
});

/** A face with its embedding as JSON; the embedding keeps its exact float32 values. */
export const embeddedFaceJson = (face: EmbeddedFace, format: EmbeddingFormat = 'json') => ({
  ...detectedFaceJson(face),
  embedding: embeddingJson(face.embedding, format),
});
