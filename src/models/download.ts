import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, rename, rm, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { Logger } from '../types.js';
import { describeNetworkError, openFollowingRedirects, RemoteFailure, Watchdog } from './http.js';

/** Download progress goes to the log at most this often. */
export const PROGRESS_EVERY_MS = 5000;

export const TEMP_SUFFIX = '.part';

/** Same directory as the target so the final rename is atomic; never matched by the cache lookup. */
export function tempPathFor(target: string): string {
  return `${target}.${process.pid}.${randomBytes(4).toString('hex')}${TEMP_SUFFIX}`;
}

export interface DownloadOptions {
  url: string;
  target: string;
  token?: string;
  timeoutMs: number;
  log: Logger;
  maxRedirects?: number;
  /** Default PROGRESS_EVERY_MS. */
  progressEveryMs?: number;
  /** Called on every chunk, e.g. to draw a progress bar. */
  onProgress?: (progress: DownloadProgress) => void;
}

export interface DownloadProgress {
  url: string;
  received: number;
  total?: number;
}

export interface DownloadResult {
  size: number;
  sha256: string;
  finalUrl: string;
}

/** Logs bytes, total and rate at most every `everyMs`, never per chunk. */
class Progress {
  private readonly started = Date.now();
  private lastAt = this.started;

  constructor(
    private readonly log: Logger,
    private readonly url: string,
    private readonly total: number | undefined,
    private readonly everyMs: number,
  ) {}

  tick(received: number): void {
    const now = Date.now();
    if (this.total !== undefined && received >= this.total) return;
    if (now - this.lastAt < this.everyMs) return;
    this.lastAt = now;
    const bytesPerSecond = Math.round((received * 1000) / Math.max(1, now - this.started));
    this.log.info({ url: this.url, received, total: this.total, bytesPerSecond }, 'downloading model file');
  }
}

/**
 * Streams `url` into a temporary file next to `target`, checks length and sha256 where the server
 * states them, fsyncs, then renames into place. On any failure the temporary file is removed.
 * Throws RemoteFailure for anything the remote side did wrong; local I/O errors pass through.
 */
export async function downloadToFile(opts: DownloadOptions): Promise<DownloadResult> {
  const { url, target, log } = opts;
  await mkdir(dirname(target), { recursive: true });
  const wd = new Watchdog(opts.timeoutMs);
  const temp = tempPathFor(target);
  let fh: FileHandle | undefined;
  let committed = false;
  let opened: Awaited<ReturnType<typeof openFollowingRedirects>> | undefined;
  try {
    opened = await openFollowingRedirects(url, { token: opts.token, watchdog: wd, maxRedirects: opts.maxRedirects });
    const { res, contentLength, expectedSize, expectedSha256 } = opened;
    if (contentLength !== undefined && expectedSize !== undefined && contentLength !== expectedSize) {
      throw new RemoteFailure('integrity', `size mismatch: Content-Length ${contentLength}, X-Linked-Size ${expectedSize}`);
    }
    const total = contentLength ?? expectedSize;
    log.info({ url, total, via: opened.finalUrl.origin }, 'downloading model file');
    const started = Date.now();

    fh = await open(temp, 'wx');
    const hash = createHash('sha256');
    const progress = new Progress(log, url, total, opts.progressEveryMs ?? PROGRESS_EVERY_MS);
    let received = 0;
    const chunks = res[Symbol.asyncIterator]();
    for (;;) {
      let next: IteratorResult<Buffer>;
      try {
        next = await chunks.next();
      } catch (err) {
        if (wd.fired) throw wd.timeoutError(received, total);
        throw new RemoteFailure(
          'truncated',
          `connection lost after ${received}${total !== undefined ? ` of ${total}` : ''} bytes (${describeNetworkError(err)})`,
        );
      }
      if (next.done) break;
      wd.touch();
      const chunk = next.value;
      hash.update(chunk);
      received += chunk.length;
      await fh.write(chunk);
      wd.touch();
      progress.tick(received);
      opts.onProgress?.({ url, received, total });
    }
    wd.stop();

    if (!res.complete || (contentLength !== undefined && received !== contentLength)) {
      throw new RemoteFailure('truncated', `truncated: received ${received}${total !== undefined ? ` of ${total}` : ''} bytes`);
    }
    if (expectedSize !== undefined && received !== expectedSize) {
      throw new RemoteFailure('integrity', `size mismatch: received ${received} bytes, X-Linked-Size ${expectedSize}`);
    }
    const sha256 = hash.digest('hex');
    if (expectedSha256 !== undefined && sha256 !== expectedSha256) {
      throw new RemoteFailure('integrity', `sha256 mismatch: expected ${expectedSha256}, got ${sha256}`);
    }
    await fh.sync();
    await fh.close();
    fh = undefined;
    await rename(temp, target);
    committed = true;
    log.info({ url, size: received, sha256, verified: expectedSha256 !== undefined, ms: Date.now() - started }, 'downloaded model file');
    return { size: received, sha256, finalUrl: opened.finalUrl.href };
  } finally {
    wd.stop();
    opened?.res.destroy();
    if (fh) await fh.close().catch(() => {});
    if (!committed) await rm(temp, { force: true }).catch(() => {});
  }
}
