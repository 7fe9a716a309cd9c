import * as grpc from '@grpc/grpc-js';
import type { GrpcHost } from './host.js';

type Status = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

/** The services a probe may name: '' (the whole server) and the inference service. */
const KNOWN = ['', 'home_native.v1.Inference'];

/** grpc.health.v1: SERVING once the models are loaded, NOT_SERVING before (as /readyz). */
function statusOf(host: GrpcHost, service: string): Status {
  if (!KNOWN.includes(service)) return 'SERVICE_UNKNOWN';
  try {
    host.backend();
    return 'SERVING';
  } catch {
    return 'NOT_SERVING';
  }
}

const WATCH_INTERVAL_MS = 1000;

/** The standard health service, open without a key, as the HTTP probes are. */
export function healthService(host: GrpcHost): grpc.UntypedServiceImplementation {
  return {
    Check(call: grpc.ServerUnaryCall<{ service: string }, unknown>, callback: grpc.sendUnaryData<{ status: Status }>) {
      const status = statusOf(host, call.request.service);
      if (status === 'SERVICE_UNKNOWN')
        callback({
          code: grpc.status.NOT_FOUND,
          details: `unknown service ${JSON.stringify(call.request.service)}; known: ${KNOWN.map((s) => JSON.stringify(s)).join(', ')}`,
        });
      else callback(null, { status });
    },
    // Sends the status, then each change; the client ends it.
    Watch(call: grpc.ServerWritableStream<{ service: string }, { status: Status }>) {
      let last: Status | undefined;
      const tick = () => {
        const status = statusOf(host, call.request.service);
        if (status !== last) call.write({ status });
        last = status;
      };
      tick();
      const timer = setInterval(tick, WATCH_INTERVAL_MS);
      const stop = () => clearInterval(timer);
      call.on('cancelled', stop);
      call.on('close', stop);
    },
  };
}
