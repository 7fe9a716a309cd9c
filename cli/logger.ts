import type { FastifyServerOptions } from 'fastify';
import pretty from 'pino-pretty';
import type { Config } from '../src/config.js';

/** JSON when stdout is not a terminal, readable lines on one; LUMEN_FACE_LOG_FORMAT decides when set. */
export function logFormat(config: Pick<Config, 'logFormat'>, isTTY = Boolean(process.stdout.isTTY)): 'json' | 'pretty' {
  return config.logFormat ?? (isTTY ? 'pretty' : 'json');
}

export function loggerOptions(config: Pick<Config, 'logFormat' | 'logLevel'>): FastifyServerOptions['logger'] {
  if (logFormat(config) === 'json') return { level: config.logLevel };
  // Synchronous, in this thread: no transport worker, and nothing lost when the process exits.
  const stream = pretty({ sync: true, colorize: Boolean(process.stdout.isTTY), translateTime: 'SYS:HH:MM:ss', ignore: 'pid,hostname' });
  return { level: config.logLevel, stream };
}
