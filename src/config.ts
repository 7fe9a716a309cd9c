/**
 * Configuration: one table of every LUMEN_FACE_* variable (config/table.ts), its text parsers
 * (config/parsers.ts) and the loader, the only reader of process.env (config/load.ts).
 */
export { ConfigError, disableOnnxRuntimeTelemetry, type Env, SECRET_NAMES, changedVariables, loadConfig, loadConfigWith, parseOptions, printable } from './config/load.js';
export { type Config, type Default, type LogFormat, type PackLayoutSetting, type Row, VARIABLES, defaultDoc } from './config/table.js';
export type { Extra } from './config/parsers.js';
export type { Precision, Runtime } from './models/names.js';
