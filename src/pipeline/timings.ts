/** Wall-clock milliseconds per pipeline stage, for the Server-Timing header and the benchmarks. */
export interface StageTimings {
  decode: number;
  detect: number;
  align: number;
  embed: number;
  quality: number;
}

export const emptyTimings = (): StageTimings => ({ decode: 0, detect: 0, align: 0, embed: 0, quality: 0 });

export async function timed<T>(timings: StageTimings, stage: keyof StageTimings, work: () => Promise<T>): Promise<T> {
  const start = performance.now();
  try {
    return await work();
  } finally {
    timings[stage] += performance.now() - start;
  }
}
