import type { FastifyServerOptions } from 'fastify';
import pretty from 'pino-pretty';
import type { Config } from '../src/config.js';

/** Keys and cookies never reach the log, even if a line someday includes the request headers. */
export const REDACTED_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'req.headers.cookie',
  'req.headers["set-cookie"]',
  'headers.authorization',
  'headers["x-api-key"]',
  'headers.cookie',
  'headers["set-cookie"]',
  // @fastify/multipart logs the options it gives busboy at trace, the request's headers among them.
  'busboyOptions.headers.authorization',
  'busboyOptions.headers["x-api-key"]',
  'busboyOptions.headers.cookie',
  // Node's parser errors carry the raw request they could not parse, headers and all.
  'err.rawPacket',
  'rawPacket',
];

type LoggerOption = FastifyServerOptions['logger'];

/**
 * The given logger options with the redaction merged in, whatever else they say: every logger the
 * app builds goes through here, so no caller can drop it by passing its own options.
 */
export function withRedaction(logger: LoggerOption): LoggerOption {
  if (logger === false || logger === undefined) return logger;
  const base = logger === true ? {} : logger;
  const given = base.redact;
  const paths = Array.isArray(given) ? given : (given?.paths ?? []);
  const censor = Array.isArray(given) ? undefined : given?.censor;
  return { ...base, redact: { paths: [...new Set([...paths, ...REDACTED_PATHS])], censor: censor ?? '[redacted]' } };
}

/** JSON when stdout is not a terminal, readable lines on one; LUMEN_FACE_LOG_FORMAT decides when set. */
export function logFormat(config: Pick<Config, 'logFormat'>, isTTY = Boolean(process.stdout.isTTY)): 'json' | 'pretty' {
  return config.logFormat ?? (isTTY ? 'pretty' : 'json');
}

export function loggerOptions(config: Pick<Config, 'logFormat' | 'logLevel'>): LoggerOption {
  if (logFormat(config) === 'json') return withRedaction({ level: config.logLevel });
  // Synchronous, in this thread: no transport worker, and nothing lost when the process exits.
  const stream = pretty({ sync: true, colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
  return withRedaction({ level: config.logLevel, stream });
}
