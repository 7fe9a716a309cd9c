/**
 * Graceful shutdown on SIGTERM/SIGINT. The process must never end while a model is inside a run: a
 * worker thread torn down by process.exit() mid-run makes ONNX Runtime's completion throw into a dead
 * environment, and the process aborts ("terminate called after throwing an instance of 'Napi::Error'",
 * exit 134). So the shutdown timeout closes the connections still open (their clients hear the close),
 * and the exit waits for the app's close, whose last step ends the inference pool once no run is left
 * in it (queued runs are cancelled, so that is one run at most).
 */

export interface ShutdownTarget {
  close(): Promise<unknown>;
  server: { closeAllConnections(): void };
  log: { info(obj: object, msg: string): void; warn(msg: string): void; error(obj: object, msg: string): void };
}

export interface ShutdownOptions {
  timeoutSeconds: number;
  /** The documented exit code of a shutdown is 0. */
  exit?: (code: number) => void;
  signals?: readonly NodeJS.Signals[];
}

export function handleShutdownSignals(app: ShutdownTarget, opts: ShutdownOptions): void {
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  let started = false;
  const shutdown = async (signal: string) => {
    if (started) {
      app.log.info({ signal }, 'already shutting down');
      return;
    }
    started = true;
    app.log.info({ signal, timeoutSeconds: opts.timeoutSeconds }, 'shutting down: waiting for requests in flight');
    const timer = setTimeout(() => {
      app.log.warn(`requests still in flight after ${opts.timeoutSeconds} s (LUMEN_FACE_SHUTDOWN_TIMEOUT); closing their connections`);
      app.server.closeAllConnections();
    }, opts.timeoutSeconds * 1000);
    timer.unref();
    try {
      await app.close();
    } catch (err) {
      app.log.error({ err }, 'error while shutting down');
    }
    clearTimeout(timer);
    exit(0);
  };
  // Listeners stay on: a second signal must not fall back to Node's default (an exit mid-run).
  for (const signal of opts.signals ?? ['SIGINT', 'SIGTERM']) process.on(signal, () => void shutdown(signal));
}
