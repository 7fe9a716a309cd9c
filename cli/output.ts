import type { Logger } from '../src/types.js';

/** Warnings and errors as plain lines on stderr; the rest stays quiet (the command prints its own report). */
export function stderrLogger(stream: NodeJS.WritableStream = process.stderr): Logger {
  const line = (level: string) => (obj: object, msg?: string) => {
    const details = Object.entries(obj)
      .filter(([k]) => k !== 'reason')
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' ');
    stream.write(`${level}: ${msg ?? ''}${details ? ` (${details})` : ''}\n`);
  };
  return { debug() {}, info: line('info'), warn: line('warning'), error: line('error') };
}

export const quietLogger = (stream: NodeJS.WritableStream = process.stderr): Logger => ({ ...stderrLogger(stream), info() {} });
