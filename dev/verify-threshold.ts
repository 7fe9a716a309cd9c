import type { FaceBackend } from '../src/index.js';
import { bestThreshold, identityPhotos, largest, loadLabels, pairCosines, type PairStats, readFace, rank1 } from './fixtures.js';

/** What the labelled identity photos say about a pack's verification threshold. */
export interface ThresholdMeasurement {
  /** The cosine that best separates same-person from different-person pairs, rounded to 3 decimals. */
  threshold: number;
  /** The share of pairs that threshold classifies right. */
  accuracy: number;
  pairs: PairStats;
  rank1: { correct: number; total: number };
  /** Photos in which no face was found (left out of the pairs). */
  missing: string[];
}

/**
 * The largest face of every identity photo of the shared set, embedded by `backend`, and every pair of
 * them compared: the measurement `npm run bench -- quality` prints and the packs' default thresholds
 * (src/models/pack-facts.ts) come from.
 */
export async function measureThreshold(backend: FaceBackend): Promise<ThresholdMeasurement> {
  const names: string[] = [];
  const vectors: Float32Array[] = [];
  const missing: string[] = [];
  for (const { identity, path } of identityPhotos(loadLabels())) {
    const face = largest((await backend.faces(readFace(path))).faces);
    if (!face) {
      missing.push(path);
      continue;
    }
    names.push(identity);
    vectors.push(face.embedding);
  }
  const pairs = pairCosines(names, vectors);
  const best = bestThreshold(pairs);
  const { correct, total } = rank1(names, vectors);
  return { threshold: Math.round(best.threshold * 1000) / 1000, accuracy: best.accuracy, pairs, rank1: { correct, total }, missing };
}
