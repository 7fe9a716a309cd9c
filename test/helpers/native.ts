export { captureLogger } from './logger.js';
export { tempDir } from './temp.js';

/** Rejection of a promise (or throw of a function), for asserting on error properties. */
export async function failureOf(run: () => unknown): Promise<Error & Record<string, unknown>> {
  try {
    await run();
  } catch (err) {
    return err as Error & Record<string, unknown>;
  }
  throw new Error('expected a failure, but it succeeded');
}
