import { ConfigError, loadConfig } from '../../src/config.js';

/** The ConfigError loading `env` raises, or undefined when it loads; any other error is thrown. */
export function configError(env: Record<string, string>): ConfigError | undefined {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  return undefined;
}

/** Every problem loading `env` reports, or none. */
export const configProblems = (env: Record<string, string>): string[] => configError(env)?.problems ?? [];
