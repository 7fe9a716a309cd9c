import type { Registry } from 'prom-client';
import type { FaceBackend, Logger } from '../src/index.js';

/**
 * What the gRPC service shares with the HTTP app, and nothing more: the backend (through the same
 * readiness check), the in-flight slots, the API keys and the metrics registry. server/start.ts builds
 * it from the Fastify app; the service itself knows nothing of Fastify.
 */
export interface GrpcHost {
  /** The loaded backend, or a NOT_READY LumenError. */
  backend(): FaceBackend;
  /** One of LUMEN_FACE_MAX_INFLIGHT slots, shared with HTTP, or undefined when all are taken. */
  tryImageSlot(): (() => void) | undefined;
  /** Undefined when no keys are configured. */
  isKey?: (presented: string) => boolean;
  metrics: Registry;
  log: Logger;
  limits: GrpcLimits;
}

export interface GrpcLimits {
  maxUploadBytes: number;
  /** Milliseconds a chunked payload may wait for its next chunk. */
  chunkIdleMs: number;
  /** Requests of one stream run at once; also the capability's max_concurrency. */
  maxConcurrency: number;
  /** Whole requests a stream may have waiting for their turn, and unfinished chunked payloads. */
  maxQueued: number;
  maxFaces: number;
}
