import os from 'node:os';
import { LumenError } from '../errors.js';
import { invalid } from '../validation.js';
import { type Config, type Derivation, type Row, VARIABLES } from './table.js';

/** The loader: it parses every row of an environment (src/config.ts hands it the process environment), derives defaults, and checks rows against each other. */

export type Env = Record<string, string | undefined>;

/** Thrown when one or more variables are invalid; lists every problem at once. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

const ROWS = Object.entries(VARIABLES) as [keyof Config, Row<unknown>][];

const cpuCount = () => Math.max(1, os.availableParallelism?.() ?? os.cpus().length);

const truncated = (value: string) => (value.length > 200 ? `${value.slice(0, 200)}...` : value);

/**
 * A variable's text as every printer shows it: messages, `lumen-face check`, logs. A secret row's
 * value is never shown, only that it is set (`hidden` in an error message, which must not echo it).
 */
export function printable(variable: Row<unknown>, text: string, secretAs: '(set)' | '(hidden)' = '(set)'): string {
  return variable.secret ? secretAs : truncated(text);
}

/** The names of the secret variables, primary and aliases (for tests and any printer of raw environments). */
export const SECRET_NAMES: readonly string[] = ROWS.filter(([, v]) => v.secret).flatMap(([, v]) => v.names);

/** How a typed value given to createBackend(...) is written as text, to be read by the row's own parser. */
function optionText(variable: Row<unknown>, value: unknown): string {
  if (variable.toText) return variable.toText(value as never);
  if (Array.isArray(value)) return value.join(',');
  if (typeof value === 'string') return value;
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : String(value);
}

/**
 * Options given to createBackend(...) by key, through the same parsers as the environment: one
 * validation, one phrasing (`workers is invalid: expected ...; received 0`), code INVALID_OPTION.
 */
export function parseOptions(options: Partial<Record<keyof Config, unknown>>): Partial<Config> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [key, given] of Object.entries(options) as [keyof Config, unknown][]) {
    const variable = VARIABLES[key] as Row<unknown> | undefined;
    if (!variable || given === undefined) continue;
    const result = variable.parse.safeParse(optionText(variable, given));
    if (result.success) out[key] = result.data;
    else problems.push(invalid(key, result.error.issues.map((i) => i.message).join('; '), variable.secret ? '(hidden)' : given));
  }
  if (problems.length > 0) throw new LumenError('INVALID_OPTION', problems.join('\n'));
  return out as Partial<Config>;
}

/**
 * `cpus` is for tests; it defaults to the CPUs this process may use. `options` are values parsed
 * already (parseOptions) that take the place of the environment's and count as given when deriving.
 */
export function loadConfig(env: Env, cpus = cpuCount(), options: Partial<Config> = {}): Config {
  const problems: string[] = [];
  // Elsewhere an empty variable means unset; an empty key list would turn authentication off, so it fails closed.
  for (const name of ['LUMEN_FACE_API_KEYS', 'LUMEN_FACE_API_KEYS_FILE']) {
    if (env[name] !== undefined && env[name]!.trim() === '') problems.push(`${name} is set but empty: give at least one key, or unset it to run without keys`);
  }
  const out: Record<string, unknown> = {};
  const given = new Set<keyof Config>();
  for (const [key, variable] of ROWS) {
    if (options[key] !== undefined) {
      given.add(key);
      out[key] = options[key];
      continue;
    }
    const present = variable.names.filter((n) => env[n] !== undefined && env[n] !== '');
    if (present.length === 0) continue;
    given.add(key);
    const values = present.map((name) => {
      const raw = env[name] as string;
      const result = variable.parse.safeParse(raw);
      if (!result.success) {
        problems.push(invalid(name, result.error.issues.map((i) => i.message).join('; '), printable(variable, raw, '(hidden)')));
      }
      return { name, value: result.success ? result.data : undefined };
    });
    if (values.some((x) => x.value === undefined)) continue;
    const [first, ...rest] = values;
    const conflict = rest.find((x) => JSON.stringify(x.value) !== JSON.stringify(first.value));
    if (conflict && key === 'runtime') {
      const shown = (name: string) => JSON.stringify(printable(variable, env[name]!, '(hidden)'));
      problems.push(`${first.name}=${shown(first.name)} and ${conflict.name}=${shown(conflict.name)} disagree: set only one`);
      continue;
    }
    out[key] = first.value;
  }
  if (problems.length > 0) throw new ConfigError(problems);
  // Defaults in table order, so a derived default reads the parsed or defaulted values above it.
  for (const [key, variable] of ROWS) {
    if (given.has(key)) continue;
    const d = variable.default;
    if (d.kind === 'value') out[key] = d.value;
    else if (d.kind === 'derived') out[key] = d.derive({ ...(out as object), cpus } as Derivation);
    else out[key] = undefined;
  }
  const config = out as Config;
  problems.push(...crossCheck(config));
  if (problems.length > 0) throw new ConfigError(problems);
  // Not enumerable: the configuration's own fields stay the variables' values.
  Object.defineProperty(config, GIVEN, { value: given });
  return config;
}

const GIVEN = Symbol('given variables');

/** `config` with some settings replaced, which count as given; what was given before still is. */
export function withSettings(config: Config, settings: Partial<Config>): Config {
  const out = { ...config, ...settings };
  const given = new Set((config as { [GIVEN]?: Set<keyof Config> })[GIVEN]);
  for (const key of Object.keys(settings) as (keyof Config)[]) given.add(key);
  Object.defineProperty(out, GIVEN, { value: given });
  return out;
}

/** Whether a setting was given (as a variable or an option) rather than left to its default. */
export function wasGiven(config: Config, key: keyof Config): boolean {
  return ((config as { [GIVEN]?: Set<keyof Config> })[GIVEN] ?? new Set()).has(key);
}

function crossCheck(c: Config): string[] {
  const problems: string[] = [];
  const npu = c.device.startsWith('rknpu');
  const shown = JSON.stringify(truncated(c.device));
  if (c.runtime === 'rknn' && !npu) {
    problems.push(`LUMEN_FACE_DEVICE=${shown} does not fit LUMEN_FACE_RUNTIME=rknn: expected rknpu or rknpuN`);
  }
  if (c.runtime === 'onnxrt' && npu) {
    problems.push(`LUMEN_FACE_DEVICE=${shown} does not fit LUMEN_FACE_RUNTIME=onnxrt: expected cpu, cuda or cuda:N`);
  }
  return problems;
}

/** The configuration from the environment with some variables replaced (the `lumen-face` flags). */
export function loadConfigWith(overrides: Env, env: Env): Config {
  return loadConfig({ ...env, ...overrides });
}

/** The variables set to something other than their default, as `NAME=value` (secrets shown as set). */
export function changedVariables(overrides: Env, base: Env): string[] {
  const env = { ...base, ...overrides };
  const defaults = loadConfig({});
  const changed: string[] = [];
  for (const [key, variable] of ROWS) {
    const name = variable.names.find((n) => env[n] !== undefined && env[n] !== '');
    if (!name) continue;
    const parsed = variable.parse.safeParse(env[name]);
    if (parsed.success && JSON.stringify(parsed.data) === JSON.stringify(defaults[key])) continue;
    changed.push(`${name}=${printable(variable, env[name]!)}`);
  }
  return changed;
}

/**
 * ONNX Runtime 1.30 starts a telemetry system that persists a device ID under the home directory. Without
 * a writable home (a non-root container) it prints a coloured, non-JSON warning into the log stream, and a
 * face service has no business reporting usage anyway. ORT reads the OS environment when its first session
 * is created, so this runs in the main thread before any photo worker loads ORT. An operator's own value wins.
 */
export function disableOnnxRuntimeTelemetry(env: Env): void {
  env.ORT_DISABLE_TELEMETRY ??= '1';
}
