import type { FastifyInstance } from 'fastify';
import type { Config } from '../src/config.js';

/**
 * Signal handling, in one place: on SIGINT or SIGTERM stop accepting, let the requests in flight
 * finish, and at LUMEN_FACE_SHUTDOWN_TIMEOUT close what is left.
 */
export function handleSignals(app: FastifyInstance, config: Pick<Config, 'shutdownTimeout'>): void {
  async function shutdown(signal: string) {
    app.log.info({ signal, timeoutSeconds: config.shutdownTimeout }, 'shutting down: waiting for requests in flight');
    setTimeout(() => {
      app.log.warn(`requests still in flight after ${config.shutdownTimeout} s (LUMEN_FACE_SHUTDOWN_TIMEOUT); closing their connections`);
      app.server.closeAllConnections();
      process.exit(0);
    }, config.shutdownTimeout * 1000).unref();
    await app.close();
    process.exit(0);
  }
  process.once('SIGINT', () => void shutdown('SIGINT'));
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
}

/** The model pack failed to load: say why on stderr (done by the caller), close, and exit non-zero. */
export async function exitAfterLoadFailure(app: FastifyInstance): Promise<never> {
  app.log.fatal('exiting: the model pack could not be loaded (see the message on stderr)');
  await app.close().catch(() => undefined);
  process.exit(1);
}
