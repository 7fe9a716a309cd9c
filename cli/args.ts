import { parseArgs, type ParseArgsConfig } from 'node:util';
import { type Config, ConfigError, loadConfigWith } from '../src/config.js';

/** A usage error: exit code 2, like a bad variable. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;

/** util.parseArgs, strict: an unknown flag or a missing value is a UsageError naming it. */
export function parseFlags(args: string[], options: Options, command: string): { values: Record<string, string | boolean | undefined> } {
  let tokens: NonNullable<ReturnType<typeof parseArgs>['tokens']>;
  try {
    ({ tokens } = parseArgs({ args, options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false, tokens: true }));
  } catch (err) {
    throw new UsageError(`lumen-face ${command}: ${(err as Error).message}\nRun \`lumen-face ${command} --help\` for the flags it accepts.`);
  }
  // parseArgs keeps the last of repeated flags; which one was meant is unknown, as with the query knobs.
  const values: Record<string, string | boolean | undefined> = {};
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (token.name in values) throw new UsageError(`lumen-face ${command}: --${token.name} is given twice; give it once`);
    values[token.name] = token.value ?? true;
  }
  return { values };
}

/** The pack flags shared by fetch, check and info, as the variables they stand for. */
export const PACK_FLAGS = {
  model: { type: 'string' },
  precision: { type: 'string' },
  runtime: { type: 'string' },
  layout: { type: 'string' },
} as const satisfies Options;

export const PACK_FLAGS_HELP = `  --model NAME        pack name (LUMEN_FACE_MODEL_NAME), e.g. scrfd_2.5g_mbf or buffalo_l
  --precision P       fp16, int8 or fp32 (LUMEN_FACE_PRECISION; immich and insightface packs have one precision)
  --runtime R         onnxrt or rknn (LUMEN_FACE_RUNTIME)
  --layout L          lumen, immich, insightface or auto (LUMEN_FACE_PACK_LAYOUT)`;

const FLAG_OF: Record<string, string> = {
  LUMEN_FACE_MODEL_NAME: '--model',
  LUMEN_FACE_PRECISION: '--precision',
  LUMEN_FACE_RUNTIME: '--runtime',
  LUMEN_FACE_BACKEND: '--runtime',
  LUMEN_FACE_PACK_LAYOUT: '--layout',
};

/** The configuration with the flags applied; a bad flag value is named as the flag the user typed. */
export function loadPackConfig(values: Parameters<typeof packOverrides>[0]): Config {
  const overrides = packOverrides(values);
  try {
    return loadConfigWith(overrides);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const problems = err.problems.map((p) => {
      const name = /^([A-Z_]+) is invalid/.exec(p)?.[1];
      return name && name in overrides ? p.replace(`${name} is invalid`, `${FLAG_OF[name]} is invalid`) : p;
    });
    throw new ConfigError([...new Set(problems)]);
  }
}

export function packOverrides(values: { model?: unknown; precision?: unknown; runtime?: unknown; layout?: unknown }): Record<string, string> {
  const out: Record<string, string> = {};
  if (typeof values.model === 'string') out.LUMEN_FACE_MODEL_NAME = values.model;
  if (typeof values.precision === 'string') out.LUMEN_FACE_PRECISION = values.precision;
  if (typeof values.runtime === 'string') {
    out.LUMEN_FACE_RUNTIME = values.runtime;
    out.LUMEN_FACE_BACKEND = values.runtime;
  }
  if (typeof values.layout === 'string') out.LUMEN_FACE_PACK_LAYOUT = values.layout;
  return out;
}
