import { BroadcastChannel } from 'node:worker_threads';
import type { Logger } from '../types.js';

/**
 * The photo workers log through the pool's logger (the server's, with its level and format): each
 * line crosses to the main thread on a channel of the pool's own name, which needs no port handed to
 * the workers.
 */

type Level = keyof Logger;
interface LogMessage {
  level: Level;
  obj: object;
  msg?: string;
}

const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

/** In a photo worker: a Logger that sends every line to the pool. */
export function workerLogger(channel: string): Logger {
  const out = new BroadcastChannel(channel);
  out.unref();
  const send = (level: Level) => (obj: object, msg?: string) => {
    try {
      out.postMessage({ level, obj, msg } satisfies LogMessage);
    } catch {
      out.postMessage({ level, obj: { unsent: 'the fields could not be cloned' }, msg } satisfies LogMessage);
    }
  };
  return { debug: send('debug'), info: send('info'), warn: send('warn'), error: send('error') };
}

/** In the main thread: the workers' lines, written to `log` (the worker's fields added), until closed. */
export function receiveWorkerLogs(channel: string, log: Logger): { close(): void } {
  const input = new BroadcastChannel(channel);
  input.unref();
  input.onmessage = (event) => {
    const { level, obj, msg } = (event as unknown as { data: LogMessage }).data;
    if (LEVELS.includes(level)) log[level]({ ...obj, thread: 'photo worker' }, msg);
  };
  return { close: () => input.close() };
}
