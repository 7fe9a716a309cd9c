import type { Logger } from '../types.js';

/** Whether the models are in memory, and how many times they were loaded (the first load counts). */
export interface LoadState {
  loaded: boolean;
  loads: number;
}

/**
 * Holds something costly to keep loaded (the photo workers and their models), frees it after `ttlMs`
 * without use (LUMEN_FACE_MODEL_TTL; 0 keeps it for good) and loads it again for the next use, which
 * waits for the load rather than failing. Uses that arrive during a load share it. A use in progress
 * keeps it loaded; the clock starts when the last one ends.
 */
export class IdleUnload<T extends { close(): Promise<void> }> {
  private held: T | undefined;
  private loading: Promise<T> | undefined;
  private inUse = 0;
  private timer: NodeJS.Timeout | undefined;
  private loads = 1;
  private closed = false;

  constructor(
    first: T,
    private readonly load: () => Promise<T>,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {
    this.held = first;
    this.arm();
  }

  /** What is loaded now, if anything (for statistics: it loads nothing). */
  get current(): T | undefined {
    return this.held;
  }

  loadState(): LoadState {
    return { loaded: this.held !== undefined, loads: this.loads };
  }

  async use<R>(work: (loaded: T) => Promise<R>): Promise<R> {
    this.inUse++;
    clearTimeout(this.timer);
    try {
      return await work(this.held ?? (await this.reload()));
    } finally {
      if (--this.inUse === 0) this.arm();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    await this.loading?.catch(() => undefined);
    const held = this.held;
    this.held = undefined;
    await held?.close();
  }

  private reload(): Promise<T> {
    this.loading ??= (async () => {
      const start = performance.now();
      try {
        const loaded = await this.load();
        this.loads++;
        if (this.closed) {
          await loaded.close();
          throw new Error('the backend was closed while its models were loading');
        }
        this.held = loaded;
        this.log.info({ loads: this.loads, ms: Math.round(performance.now() - start) }, 'models loaded again after an idle unload');
        return loaded;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private arm(): void {
    if (this.closed || !(this.ttlMs > 0)) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.unload(), this.ttlMs);
    this.timer.unref();
  }

  private async unload(): Promise<void> {
    const held = this.held;
    if (this.inUse > 0 || held === undefined || this.closed) return;
    this.held = undefined;
    try {
      await held.close();
      this.log.info({ idleSeconds: this.ttlMs / 1000 }, 'models unloaded after idle time (LUMEN_FACE_MODEL_TTL)');
    } catch (err) {
      this.log.warn({ err }, 'closing the idle models failed');
    }
  }
}
