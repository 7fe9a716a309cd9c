import type { FastifyInstance } from 'fastify';
import { keyMatcher } from '../plugins/auth.js';
import type { Config } from '../src/config.js';
import type { GrpcHost } from '../grpc/host.js';
import { type GrpcServer, startGrpcServer } from '../grpc/server.js';

/** What the gRPC service shares with this app: its backend, in-flight slots, keys, metrics and log. */
export function grpcHost(app: FastifyInstance, config: Config): GrpcHost {
  const keys = [...(config.apiKeys ?? []), ...(config.apiKeysFile?.keys ?? [])];
  return {
    backend: () => app.faceBackend.get(),
    tryImageSlot: () => app.tryImageSlot(),
    isKey: keys.length > 0 ? keyMatcher(keys) : undefined,
    metrics: app.metrics,
    log: app.log.child({ protocol: 'grpc' }),
    limits: {
      maxUploadBytes: config.maxUploadBytes,
      chunkIdleMs: config.requestTimeout * 1000,
      // As many at once as the photo workers (or NPU contexts) run; more would only queue inside them.
      maxConcurrency: config.runtime === 'rknn' ? (config.extra.rknn_contexts ?? 1) : config.workers,
      maxQueued: 16,
      maxFaces: config.maxFaces,
    },
  };
}

/**
 * Start the gRPC service beside the HTTP app when LUMEN_FACE_GRPC_PORT is set, and tie it to the app's
 * life: closing the app (the shutdown drain) stops new calls and waits for the ones in progress, before
 * the backend closes; `forceClose` ends them at the shutdown timeout. Call before the app is ready.
 */
export async function startGrpc(app: FastifyInstance, config: Config): Promise<GrpcServer | undefined> {
  if (config.grpcPort === undefined) return undefined;
  const server = await startGrpcServer(grpcHost(app, config), { host: config.host, port: config.grpcPort });
  app.grpcPort = server.port;
  let drained: Promise<void> | undefined;
  // preClose: stop taking calls while HTTP stops too; onClose (added last, so run before the backend's): wait for the drain.
  app.addHook('preClose', async () => {
    drained = server.drain();
  });
  app.addHook('onClose', async () => {
    await (drained ?? server.drain());
  });
  app.log.info({ port: server.port }, 'gRPC (home_native.v1.Inference, grpc.health.v1) listening');
  return server;
}
