import type { Logger } from '../types.js';
import type { LoadState, PhotoRunner } from './runner.js';

/**
 * A runner that frees its models after `ttlMs` without a request (LUMEN_FACE_MODEL_TTL) and loads them
 * again for the next one, which waits for the load rather than failing. Requests that arrive during a
 * load share it. A request in flight keeps the models loaded; the clock starts when the last one ends.
 */
export class IdleUnloadingRunner implements PhotoRunner {
  readonly info: PhotoRunner['info'];
  private current: PhotoRunner | undefined;
  private loading: Promise<PhotoRunner> | undefined;
  private inFlight = 0;
  private timer: NodeJS.Timeout | undefined;
  private loads = 1;
  private closed = false;

  constructor(
    first: PhotoRunner,
    private readonly load: () => Promise<PhotoRunner>,
    private readonly ttlMs: number,
    private readonly log: Logger,
  ) {
    this.current = first;
    this.info = first.info;
    this.arm();
  }

  readonly detect: PhotoRunner['detect'] = (image, options, control) => this.run((r) => r.detect(image, options, control));
  readonly faces: PhotoRunner['faces'] = (image, options, control) => this.run((r) => r.faces(image, options, control));
  readonly embed: PhotoRunner['embed'] = (image, options, control) => this.run((r) => r.embed(image, options, control));

  loadState(): LoadState {
    return { loaded: this.current !== undefined, loads: this.loads };
  }

  stats() {
    return this.current?.stats?.();
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const loading = this.loading;
    await loading?.catch(() => undefined);
    const current = this.current;
    this.current = undefined;
    await current?.close();
  }

  private async run<T>(work: (runner: PhotoRunner) => Promise<T>): Promise<T> {
    this.inFlight++;
    clearTimeout(this.timer);
    try {
      return await work(this.current ?? (await this.reload()));
    } finally {
      if (--this.inFlight === 0) this.arm();
    }
  }

  private reload(): Promise<PhotoRunner> {
    this.loading ??= (async () => {
      const start = performance.now();
      try {
        const runner = await this.load();
        this.loads++;
        if (this.closed) {
          await runner.close();
          throw new Error('the backend was closed while its models were loading');
        }
        this.current = runner;
        this.log.info({ loads: this.loads, ms: Math.round(performance.now() - start) }, 'models loaded again after an idle unload');
        return runner;
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private arm(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.unload(), this.ttlMs);
    this.timer.unref();
  }

  private async unload(): Promise<void> {
    const runner = this.current;
    if (this.inFlight > 0 || runner === undefined || this.closed) return;
    this.current = undefined;
    try {
      await runner.close();
      this.log.info({ idleSeconds: this.ttlMs / 1000 }, 'models unloaded after idle time (LUMEN_FACE_MODEL_TTL)');
    } catch (err) {
      this.log.warn({ err }, 'closing the idle models failed');
    }
  }
}
