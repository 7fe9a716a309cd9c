import type { Config } from './config/table.js';
import * as loader from './config/load.js';

/**
 * Configuration: one table of every LUMEN_FACE_* variable (config/table.ts), its text parsers
 * (config/parsers.ts) and the loader (config/load.ts). This file is the only reader of process.env:
 * the loader's functions take an environment, and these give them the process's.
 */
export { ConfigError, type Env, SECRET_NAMES, parseOptions, printable, wasGiven, withSettings } from './config/load.js';

/** `cpus` is for tests; `options` are values parsed already (parseOptions) that count as given. */
export const loadConfig = (env: loader.Env = process.env, cpus?: number, options?: Partial<Config>): Config => loader.loadConfig(env, cpus, options);

/** The configuration from the environment with some variables replaced (the `lumen-face` flags). */
export const loadConfigWith = (overrides: loader.Env, env: loader.Env = process.env): Config => loader.loadConfigWith(overrides, env);

/** The variables set to something other than their default, as `NAME=value` (secrets shown as set). */
export const changedVariables = (overrides: loader.Env = {}, base: loader.Env = process.env): string[] => loader.changedVariables(overrides, base);

/** See config/load.ts: ONNX Runtime reads ORT_DISABLE_TELEMETRY from the process's environment. */
export const disableOnnxRuntimeTelemetry = (env: loader.Env = process.env): void => loader.disableOnnxRuntimeTelemetry(env);
export { type Config, type Default, type LogFormat, type PackLayoutSetting, type Row, VARIABLES, defaultDoc } from './config/table.js';
export type { Extra } from './config/parsers.js';
export type { Precision, Runtime } from './models/names.js';
