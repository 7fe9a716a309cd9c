import * as grpc from '@grpc/grpc-js';
import { LumenError } from '../src/errors.js';
import { refusal } from './auth.js';
import { buildCapability } from './capability.js';
import { wireError } from './errors.js';
import { healthService } from './health.js';
import type { GrpcHost } from './host.js';
import { type InferCall, serveInferStream } from './infer-stream.js';
import { grpcMetrics } from './metrics.js';
import { loadProtocol, type Capability } from './protocol.js';

export interface GrpcServer {
  /** The port bound (the one asked for, or the one chosen for 0). */
  port: number;
  /** Stop taking calls and resolve once the calls in progress have ended. */
  drain(): Promise<void>;
  /** End every call still open (the shutdown timeout). */
  forceClose(): void;
}

/** A request slightly larger than the upload limit still arrives, so it is answered with the limit in the stream. */
const MESSAGE_OVERHEAD = 64 * 1024;

/** A status for a unary call that failed before its answer: NOT_READY is UNAVAILABLE, as Lumen's error codes map. */
function callStatus(err: unknown): Partial<grpc.StatusObject> {
  const { code, message } = wireError(err);
  return { code: code === 'ERROR_CODE_UNAVAILABLE' ? grpc.status.UNAVAILABLE : grpc.status.INTERNAL, details: message };
}

/** Lumen's home_native.v1.Inference and grpc.health.v1.Health on `host:port`, over the host's backend, slots, keys and metrics. */
export async function startGrpcServer(host: GrpcHost, address: { host: string; port: number }): Promise<GrpcServer> {
  const protocol = loadProtocol();
  const metrics = grpcMetrics(host.metrics);
  const server = new grpc.Server({
    'grpc.max_receive_message_length': host.limits.maxUploadBytes + MESSAGE_OVERHEAD,
    'grpc.max_send_message_length': -1,
  });

  const capability = (): Capability => buildCapability(host.backend().info(), host.limits);
  /** The key check of every method but the probes; true when the call may go on. */
  const admitted = (metadata: grpc.Metadata, refuse: (status: grpc.StatusObject) => void) => {
    const refused = refusal(metadata, host.isKey);
    if (refused) refuse(refused);
    return !refused;
  };

  server.addService(protocol.Inference.service, {
    Infer(call: InferCall) {
      if (!admitted(call.metadata, (status) => call.emit('error', status))) return;
      serveInferStream(call, host, metrics);
    },
    GetCapabilities(call: grpc.ServerUnaryCall<unknown, Capability>, callback: grpc.sendUnaryData<Capability>) {
      if (!admitted(call.metadata, (status) => callback(status))) return;
      try {
        callback(null, capability());
      } catch (err) {
        callback(callStatus(err));
      }
    },
    StreamCapabilities(call: grpc.ServerWritableStream<unknown, Capability>) {
      if (!admitted(call.metadata, (status) => call.emit('error', status))) return;
      try {
        call.write(capability());
        call.end();
      } catch (err) {
        call.emit('error', callStatus(err));
      }
    },
    // Lumen's own probe: open without a key, and UNAVAILABLE until the models are loaded.
    Health(_call: grpc.ServerUnaryCall<unknown, object>, callback: grpc.sendUnaryData<object>) {
      try {
        host.backend();
        callback(null, {});
      } catch (err) {
        callback(callStatus(err instanceof LumenError ? err : new LumenError('NOT_READY', 'the models are not loaded')));
      }
    },
  });
  server.addService(protocol.Health.service, healthService(host));

  const port = await new Promise<number>((resolve, reject) => {
    // IPv6 literals need brackets in a gRPC target.
    const target = address.host.includes(':') ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
    server.bindAsync(target, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });

  return {
    port,
    drain: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())),
    forceClose: () => server.forceShutdown(),
  };
}
