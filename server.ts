import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './src/config.js';
import { lowerBackgroundThreads } from './thread-priority.js';

/** `npm start`: read the environment, listen, load the models, and exit non-zero if they cannot load. */

let config;
try {
  config = loadConfig();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`lumen-face: ${err.message}\n`);
  process.exit(2);
}

const app = await buildApp({ config });

async function shutdown(signal: string) {
  app.log.info({ signal }, 'shutting down');
  await app.close();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown('SIGINT'));
process.once('SIGTERM', () => void shutdown('SIGTERM'));

try {
  await app.listen({ host: config.host, port: config.port });
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
  async () => {
    app.log.fatal('exiting: the model pack could not be loaded (the error is logged above)');
    await app.close().catch(() => undefined);
    process.exit(1);
  },
);
