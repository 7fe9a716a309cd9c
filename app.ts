import Fastify, { LogController, type FastifyServerOptions } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { FaceBackend } from './src/backend.js';
import type { Config } from './src/config.js';
import { MAX_JSON_BODY_BYTES } from './src/body-limits.js';
import detectRoute from './routes/detect.js';
import embedRoute from './routes/embed.js';
import facesRoute from './routes/faces.js';
import healthRoute from './routes/health.js';
import immichRoutes from './routes/immich.js';
import infoRoute from './routes/info.js';
import batchRoutes from './routes/batch.js';
import metricsRoute from './routes/metrics.js';
import verifyRoute from './routes/verify.js';
import authPlugin from './plugins/auth.js';
import faceBackendPlugin from './plugins/face-backend.js';
import configPlugin from './plugins/config.js';
import connectionsPlugin from './plugins/connections.js';
import corsPlugin from './plugins/cors.js';
import earlyRefusalPlugin, { lingerBounds } from './plugins/early-refusal.js';
import errorsPlugin, { clientErrorHandler, frameworkErrors } from './plugins/errors.js';
import hostsPlugin from './plugins/hosts.js';
import immichUpstreamPlugin from './plugins/immich-upstream.js';
import inflightPlugin from './plugins/inflight.js';
import methodNotAllowedPlugin from './plugins/method-not-allowed.js';
import metricsPlugin from './plugins/metrics.js';
import bodyPlugin, { urlFetchOptions } from './plugins/body.js';
import requestLogPlugin from './plugins/request-log.js';
import { genReqId } from './server/request-id.js';
import { IMMICH_ROUTES } from './routes/probe-paths.js';
import swaggerPlugin from './plugins/swagger.js';
import { withRedaction } from './server/logger.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The gRPC port bound (server/grpc.ts sets it), or null when gRPC is off; /v1/info reports it. */
    grpcPort: number | null;
  }
}

export interface AppOptions {
  config: Config;
  /** Use this backend instead of loading one from the config (it is not closed with the app). */
  backend?: FaceBackend;
  /** The caller reports a failure to load the models (the server, once, in the log's format). */
  loadFailureReportedElsewhere?: boolean;
  logger?: FastifyServerOptions['logger'];
}

/** External plugins, then app plugins, then routes (the fastify/demo order). */
export async function buildApp(options: AppOptions) {
  const { config } = options;
  const requestMs = config.requestTimeout * 1000;
  const uploadMs = config.uploadTimeout * 1000;
  const app = Fastify({
    // Whoever chose the logger options, the key and cookie redaction is merged in.
    logger: withRedaction(options.logger ?? { level: config.logLevel }),
    // plugins/request-log.ts writes one line per request instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    genReqId,
    // Image routes set their own limit (plugins/body.ts: base64 JSON of LUMEN_FACE_MAX_UPLOAD_BYTES); this bounds any other body.
    bodyLimit: MAX_JSON_BODY_BYTES,
    // Node's own bounds on a request's arrival (408 through clientErrorHandler); the idle timeout of a
    // request in progress is plugins/connections.ts. Expiry is checked every connectionsCheckingInterval.
    requestTimeout: uploadMs,
    // Node answers a missing Host with an empty 400; plugins/early-refusal.ts answers it in the one shape.
    http: { headersTimeout: Math.min(requestMs, uploadMs), connectionsCheckingInterval: Math.min(1000, requestMs / 2), requireHostHeader: false },
    clientErrorHandler: clientErrorHandler(
      { requestSeconds: config.requestTimeout, uploadSeconds: config.uploadTimeout },
      lingerBounds(config.requestTimeout, config.maxUploadBytes),
    ),
    frameworkErrors,
    // Shutdown answers SHUTTING_DOWN in the one error shape (plugins/connections.ts), not Fastify's bare 503.
    return503OnClosing: false,
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  await app.register(swaggerPlugin);
  await app.register(configPlugin, { config });
  app.decorate('grpcPort', null);
  await app.register(bodyPlugin, { maxUploadBytes: config.maxUploadBytes, urlFetch: urlFetchOptions(config) });
  await app.register(errorsPlugin);
  await app.register(connectionsPlugin, {
    requestTimeoutSeconds: config.requestTimeout,
    minUploadRate: config.minUploadRate,
    minUploadGraceSeconds: config.minUploadGrace,
    maxConnections: config.maxConnections,
  });
  await app.register(earlyRefusalPlugin, { requestTimeoutSeconds: config.requestTimeout, maxUploadBytes: config.maxUploadBytes });
  await app.register(methodNotAllowedPlugin);
  await app.register(hostsPlugin, { allowedHosts: config.allowedHosts, metricsPublic: config.metricsPublic });
  await app.register(corsPlugin, { origins: config.corsOrigins });
  await app.register(authPlugin, {
    keys: [...(config.apiKeys ?? []), ...(config.apiKeysFile?.keys ?? [])],
    // immich sends no key: its routes are opened only when the operator says so (LUMEN_FACE_IMMICH=public).
    publicRoutes: config.immich === 'public' ? IMMICH_ROUTES : [],
    metricsPublic: config.metricsPublic,
  });
  await app.register(inflightPlugin, { maxInflight: config.maxInflight });
  await app.register(faceBackendPlugin, { config, backend: options.backend, loadFailureReportedElsewhere: options.loadFailureReportedElsewhere });
  await app.register(requestLogPlugin);
  await app.register(metricsPlugin);

  await app.register(healthRoute);
  await app.register(infoRoute);
  await app.register(embedRoute);
  await app.register(detectRoute);
  await app.register(facesRoute);
  await app.register(batchRoutes);
  await app.register(verifyRoute);
  await app.register(metricsRoute);
  if (config.immich !== 'off') {
    await app.register(immichUpstreamPlugin, {
      url: config.immichUpstream,
      timeoutSeconds: config.immichUpstreamTimeout,
      maxBytes: config.immichUpstreamMaxBytes,
    });
    await app.register(immichRoutes);
  }
  return app;
}
