import { buildApp } from './app.js';
import { explainStartupError } from './cli/explain.js';
import { loggerOptions } from './cli/logger.js';
import { type Config, ConfigError, loadConfig } from './src/config.js';
import { handleShutdownSignals } from './src/shutdown.js';
import { lowerBackgroundThreads } from './src/thread-priority.js';

/** `npm start`: read the environment, listen, load the models, and exit non-zero if they cannot load. */

let config: Config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`lumen-face: ${err.message}\n`);
  process.exit(2);
}

const app = await buildApp({ config, logger: loggerOptions(config) });

// Stop accepting, let the requests in flight finish, and at LUMEN_FACE_SHUTDOWN_TIMEOUT close what is left.
handleShutdownSignals(app, { timeoutSeconds: config.shutdownTimeout });

try {
  await app.listen({
    host: config.host,
    port: config.port,
    // Listening comes first so /healthz and /readyz answer during a download: say so.
    listenTextResolver: (address) => app.faceBackend.state.status === 'ready'
      ? `Server listening at ${address}`
      : `Server listening at ${address}; still loading the model pack (GET /readyz answers 200 once it is ready)`,
  });
} catch (err) {
  app.log.fatal({ err }, 'could not listen');
  process.exit(1);
}

app.faceBackend.loaded.then(
  () => {
    app.log.info('ready');
    // The warm-up started the pools; a few later passes catch threads started by the first requests.
    const lower = () => lowerBackgroundThreads(config.inferenceNice);
    lower();
    const timer = setInterval(lower, 5000);
    timer.unref();
  },
  async (err: unknown) => {
    process.stderr.write(explainStartupError(err, config));
    app.log.fatal('exiting: the model pack could not be loaded (see the message on stderr)');
    await app.close().catch(() => undefined);
    process.exit(1);
  },
);
