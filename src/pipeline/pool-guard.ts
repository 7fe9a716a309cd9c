import type { Piscina } from 'piscina';

/**
 * Keeps worker failures inside the engine. A worker whose start-up fails (a graph that does not load)
 * makes Piscina emit 'error', which without a listener is an uncaught exception. And a worker thread
 * terminated while ONNX Runtime is inside a call (a session being created, a run) aborts the whole
 * process ("terminate called after throwing an instance of 'Napi::Error'"), so the pool is only ever
 * torn down once no task is running in it.
 */
export interface PoolGuard {
  /**
   * Settles like `Promise.all(tasks)`, except that a worker failing outside a task rejects it too; it
   * settles only once every task has ended, so a failure never leaves a sibling inside ONNX Runtime.
   */
  all<T>(tasks: Promise<T>[]): Promise<T[]>;
  /** Cancels the queued tasks, waits for the running ones to end, then ends the threads. Idempotent. */
  close(): Promise<void>;
}

export function guardPool(pool: Piscina): PoolGuard {
  let failure: Error | undefined;
  const failed: Array<(err: Error) => void> = [];
  pool.on('error', (err: Error) => {
    failure ??= err;
    for (const notify of failed.splice(0)) notify(err);
  });
  let closing: Promise<void> | undefined;
  return {
    async all<T>(tasks: Promise<T>[]): Promise<T[]> {
      const workerFailed = new Promise<never>((_, reject) => {
        if (failure) reject(failure);
        else failed.push(reject);
      });
      workerFailed.catch(() => undefined);
      // A worker that died before taking its task leaves that task waiting for a replacement worker,
      // which fails the same way: the first failure decides.
      const settled = Promise.allSettled(tasks);
      const outcome = await Promise.race([
        settled,
        workerFailed.then(
          () => undefined,
          (err: Error) => err,
        ),
      ]);
      if (outcome instanceof Error || outcome === undefined) {
        await this.close();
        throw outcome ?? failure;
      }
      const rejected = outcome.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
      return outcome.map((r) => (r as PromiseFulfilledResult<T>).value);
    },
    close() {
      // close() waits for the running tasks (queued ones are cancelled); destroy() would end a thread mid-run.
      closing ??= pool.close({ force: true }).catch(() => pool.destroy());
      return closing;
    },
  };
}
