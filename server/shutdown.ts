import type { FastifyInstance } from 'fastify';
import type { Config } from '../src/config.js';
import { cutAllWork } from './request-work.js';

/**
 * Signal handling, in one place: on SIGINT or SIGTERM stop accepting, let the requests in flight
 * finish, and at LUMEN_FACE_SHUTDOWN_TIMEOUT close the connections still open, HTTP and gRPC (their clients
 * hear the close). The exit waits for the app's close, whose last step ends the photo workers once no model run
 * is left in them: a worker torn down by process.exit() mid-run makes ONNX Runtime's completion throw
 * into a dead environment, and the process aborts ("terminate called after throwing an instance of
 * 'Napi::Error'", exit 134). Queued runs are cancelled, so that wait is one run at most.
 */
export function handleSignals(app: FastifyInstance, config: Pick<Config, 'shutdownTimeout'>, closeOtherConnections: () => void = () => undefined): void {
  let started = false;
  const shutdown = async (signal: string) => {
    if (started) {
      app.log.info({ signal }, 'already shutting down');
      return;
    }
    started = true;
    app.log.info({ signal, timeoutSeconds: config.shutdownTimeout }, 'shutting down: waiting for requests in flight');
    const timer = setTimeout(() => {
      // One line for all that is cut, however many photos: each request's own failure is not logged again.
      const cut = cutAllWork();
      app.log.warn(
        { ...cut },
        `requests still in flight after ${config.shutdownTimeout} s (LUMEN_FACE_SHUTDOWN_TIMEOUT); ` +
          (cut.requests > 0 ? `stopped ${cut.requests} at work (${cut.photosDone} photos done, ${cut.photosSkipped} not); ` : '') +
          'closing their connections',
      );
      app.server.closeAllConnections();
      // The gRPC calls still open, if gRPC is on.
      closeOtherConnections();
    }, config.shutdownTimeout * 1000);
    timer.unref();
    try {
      await app.close();
    } catch (err) {
      app.log.error({ err }, 'error while shutting down');
    }
    clearTimeout(timer);
    process.exit(0);
  };
  // Listeners stay on: a second signal must not fall back to Node's default (an exit mid-run).
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void shutdown(signal));
}

/** The model pack failed to load: the caller has said why, once; close and exit non-zero. */
export async function exitAfterLoadFailure(app: FastifyInstance): Promise<never> {
  await app.close().catch(() => undefined);
  process.exit(1);
}
