import { buildApp } from '../app.js';
import { type Config, ConfigError, loadConfig } from '../src/config.js';
import { lowerBackgroundThreads } from '../src/thread-priority.js';
import { explainStartupError } from './explain.js';
import { startGrpc } from './grpc.js';
import { logFormat, loggerOptions } from './logger.js';
import { LumenError } from '../src/errors.js';
import { exitAfterLoadFailure, handleSignals } from './shutdown.js';

/**
 * `npm start` and `lumen-face serve`: read the environment, listen, load the models, and exit
 * non-zero if they cannot load. Resolves with the app once it listens.
 */
export async function startServer() {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`lumen-face: ${err.message}\n`);
    process.exit(2);
  }

  const app = await buildApp({ config, logger: loggerOptions(config), loadFailureReportedElsewhere: true });
  let grpc: Awaited<ReturnType<typeof startGrpc>>;
  try {
    grpc = await startGrpc(app, config);
  } catch (err) {
    app.log.fatal({ err }, `could not listen for gRPC on port ${config.grpcPort} (LUMEN_FACE_GRPC_PORT)`);
    process.exit(1);
  }
  handleSignals(app, config, () => grpc?.forceClose());

  try {
    await app.listen({
      host: config.host,
      port: config.port,
      // Listening comes first so /healthz and /readyz answer during a download: say so.
      listenTextResolver: (address) =>
        app.faceBackend.state.status === 'ready'
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
      // Two mechanisms, for two kinds of thread. Each ONNX Runtime worker lowers itself before its
      // sessions start (src/pipeline/photo-worker.ts), so the intra-op threads inherit it from birth,
      // warm-up included. The threads that native code starts on its own (libuv's pool, where sharp
      // decodes; libvips' threads; V8's helpers) have no such hook, and libvips starts them lazily
      // on the first requests: this pass lowers them now, and a pass every 5 s catches later ones.
      const lower = () => lowerBackgroundThreads(config.inferenceNice);
      lower();
      const timer = setInterval(lower, 5000);
      timer.unref();
    },
    async (err: unknown) => {
      // Once: the readable text on a terminal, one JSON line (the same text, no stack) when the log is JSON.
      const text = explainStartupError(err, config);
      if (logFormat(config) === 'json') app.log.fatal({ code: err instanceof LumenError ? err.code : undefined }, text.trimEnd());
      else process.stderr.write(text);
      await exitAfterLoadFailure(app);
    },
  );
  return app;
}
