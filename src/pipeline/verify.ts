import { LumenError } from '../errors.js';
import { PACK_FACTS } from '../models/pack-facts.js';
import type { PhotoInput, RunControl } from '../types.js';
import type { EmbeddedFace, PipelineResult } from './pipeline.js';
import type { PhotoPool } from './photo-pool.js';

/**
 * Verification: are two faces the same person? The cosine similarity of their embeddings against a
 * threshold that belongs to the recognition model.
 */

/** The configured threshold, else the one measured for the pack (src/models/pack-facts.ts), else null (not known for this model). */
export function matchThreshold(modelName: string, configured: number | undefined): number | null {
  return configured ?? PACK_FACTS[modelName]?.verifyThreshold ?? null;
}

export interface VerifiedFace extends Omit<EmbeddedFace, 'embedding'> {
  /** Which input the face comes from. */
  image: 'image1' | 'image2';
  embedding: Float32Array;
}

export interface Verification {
  similarity: number;
  /** Null when no threshold is known for the model (set LUMEN_FACE_MATCH_THRESHOLD). */
  same_person: boolean | null;
  threshold: number | null;
  faces: VerifiedFace[];
}

/** A verification of two photos, with the two answers its faces come from (image sizes, timings). */
export interface ImageVerification extends Verification {
  answers: [PipelineResult<EmbeddedFace>, PipelineResult<EmbeddedFace>];
}

export type EmbeddingInput = ArrayLike<number>;

/** Cosine similarity of two vectors (the embeddings are unit length, but sent ones may not be). */
export function cosineSimilarity(a: EmbeddingInput, b: EmbeddingInput): number {
  // Scaled by the largest magnitude first, so squares neither overflow nor vanish.
  let sa = 0;
  let sb = 0;
  for (let i = 0; i < a.length; i++) {
    sa = Math.max(sa, Math.abs(a[i]));
    sb = Math.max(sb, Math.abs(b[i]));
  }
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] / sa;
    const y = b[i] / sb;
    dot += x * y;
    na += x * x;
    nb += y * y;
  }
  // Rounding can carry |cos| a hair past 1.
  return Math.max(-1, Math.min(1, dot / Math.sqrt(na * nb)));
}

export function decide(similarity: number, threshold: number | null): Pick<Verification, 'similarity' | 'same_person' | 'threshold'> {
  return { similarity, same_person: threshold === null ? null : similarity >= threshold, threshold };
}

/** Embed the largest face of each image and compare them. */
export async function verifyImages(
  pool: Pick<PhotoPool, 'faces'>,
  image1: PhotoInput,
  image2: PhotoInput,
  threshold: number | null,
  control?: RunControl,
): Promise<ImageVerification> {
  // Both photos at once: with a photo worker per core, verification takes the time of the slower one.
  const answers = await Promise.all([pool.faces(image1, { max_faces: 1 }, control), pool.faces(image2, { max_faces: 1 }, control)]);
  const [first, second] = answers.map((r) => r.faces[0]);
  const missing = [first ? null : '"image1"', second ? null : '"image2"'].filter((x) => x !== null);
  if (missing.length > 0) {
    throw new LumenError('NO_FACE', `no face found in ${missing.join(' or ')}; each image must show at least one face`);
  }
  return {
    ...decide(cosineSimilarity(first.embedding, second.embedding), threshold),
    faces: [
      { image: 'image1', ...first },
      { image: 'image2', ...second },
    ],
    answers,
  };
}

/**
 * Compare two embeddings sent by the client. They must come from this model: same length, and not
 * all zero (a zero vector has no direction to compare).
 */
export function verifyEmbeddings(embedding1: EmbeddingInput, embedding2: EmbeddingInput, dim: number, threshold: number | null): Verification {
  for (const [name, e] of [
    ['embedding1', embedding1],
    ['embedding2', embedding2],
  ] as const) {
    if (e.length !== dim) {
      throw new LumenError('INVALID_EMBEDDING', `${name} must have ${dim} numbers (this model's dimension), received ${e.length}`);
    }
    if (!Array.from(e).some((x) => x !== 0)) throw new LumenError('INVALID_EMBEDDING', `${name} must not be all zeros`);
  }
  return { ...decide(cosineSimilarity(embedding1, embedding2), threshold), faces: [] };
}
