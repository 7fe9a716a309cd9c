import { randomBytes } from 'node:crypto';
import { open, readFile, stat, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { silentLogger, type Logger } from '../types.js';

export interface LockOptions {
  /** A lock not refreshed for this long is considered abandoned. */
  staleMs?: number;
  pollMs?: number;
  log?: Logger;
}

interface LockContent {
  pid: number;
  hostname: string;
  token: string;
  createdAt: string;
}

export const DEFAULT_STALE_MS = 2 * 60_000;

/** Lock paths this process holds right now: our own pid in a lock we don't hold means a leftover. */
const held = new Set<string>();

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function readContent(path: string): Promise<LockContent | undefined> {
  try {
    const c = JSON.parse(await readFile(path, 'utf8')) as Partial<LockContent>;
    return typeof c.pid === 'number' && typeof c.hostname === 'string' ? (c as LockContent) : undefined;
  } catch {
    return undefined;
  }
}

/** Why the lock at `path` is abandoned, or undefined while its holder looks alive. */
async function staleReason(path: string, staleMs: number): Promise<string | undefined> {
  let mtimeMs: number;
  try {
    mtimeMs = (await stat(path)).mtimeMs;
  } catch {
    return undefined; // gone: the next attempt will simply take it
  }
  const age = Date.now() - mtimeMs;
  if (age > staleMs) return `not refreshed for ${Math.round(age / 1000)} s`;
  const c = await readContent(path);
  // Only a pid on this host can be checked; a half-written lock is judged by age alone.
  if (c && c.hostname === hostname()) {
    if (c.pid === process.pid ? !held.has(path) : !pidAlive(c.pid)) return `holder pid ${c.pid} is gone`;
  }
  return undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Takes an exclusive lock file (created with O_EXCL), waiting while another live holder has it.
 * The holder refreshes the file's mtime so waiters can tell a slow holder from a dead one.
 * Returns the release function.
 */
export async function acquireLock(path: string, opts: LockOptions = {}): Promise<() => Promise<void>> {
  const staleMs = opts.staleMs ?? DEFAULT_STALE_MS;
  const log = opts.log ?? silentLogger;
  let pollMs = opts.pollMs ?? 50;
  const content: LockContent = {
    pid: process.pid,
    hostname: hostname(),
    token: randomBytes(8).toString('hex'),
    createdAt: new Date().toISOString(),
  };
  let waitingLogged = false;

  for (;;) {
    try {
      const fh = await open(path, 'wx');
      try {
        await fh.writeFile(JSON.stringify(content));
      } finally {
        await fh.close();
      }
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const reason = await staleReason(path, staleMs);
    if (reason) {
      log.warn({ lock: path, reason }, 'removing stale model download lock');
      await unlink(path).catch(() => {});
      continue;
    }
    if (!waitingLogged) {
      log.info({ lock: path }, 'waiting for another process downloading the same model file');
      waitingLogged = true;
    }
    await sleep(pollMs);
    pollMs = Math.min(pollMs * 2, 500);
  }

  held.add(path);
  const refresh = setInterval(
    () => {
      const now = new Date();
      utimes(path, now, now).catch(() => {});
    },
    Math.max(staleMs / 4, 10),
  );
  refresh.unref();

  return async () => {
    clearInterval(refresh);
    held.delete(path);
    // Only remove it if it is still ours (it may have been judged stale and taken over).
    const c = await readContent(path);
    if (c?.token === content.token) await unlink(path).catch(() => {});
  };
}
