/**
 * What is known of a pack beyond its files. `verifyThreshold` is the cosine that best separates
 * same-person from different-person pairs of the shared labelled photos (the largest face of each,
 * fp32), as `npm run bench -- quality` measures it; test/accuracy/verify-threshold.test.ts measures it
 * again and fails when a value here differs. Both shared packs use the same recognizer (PaddleX
 * MobileFaceNet, 128-d); their detectors align it slightly differently.
 */
export interface PackFacts {
  verifyThreshold: number;
}

export const PACK_FACTS: Readonly<Record<string, PackFacts>> = {
  'scrfd_2.5g_mbf': { verifyThreshold: 0.397 },
  scrfd_500m_mbf: { verifyThreshold: 0.427 },
};

/** The measured default of LUMEN_FACE_MATCH_THRESHOLD, as the configuration table prints it. */
export const measuredThresholdsDoc = (): string =>
  `measured per pack: ${Object.entries(PACK_FACTS)
    .map(([name, facts]) => `${facts.verifyThreshold} (${name})`)
    .join(', ')}, none for others`;
