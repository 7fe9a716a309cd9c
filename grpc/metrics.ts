import type { StageTimings } from '../src/index.js';
import { Counter, Histogram, type Registry } from 'prom-client';

export interface GrpcMetrics {
  /** One Infer request answered: its task ('' or 'unknown' when it had none), OK or the error's code, and what the pipeline did. */
  answered(task: string, code: string, started: number, outcome?: { faces: readonly unknown[]; timings: StageTimings }): void;
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * The gRPC side of /metrics, in the app's registry. Every series carries `protocol="grpc"`, the label the
 * HTTP series of the same kind carry as `protocol="http"`, so one query can sum or split both.
 */
export function grpcMetrics(registry: Registry): GrpcMetrics {
  const registers = [registry];
  const labelNames = ['protocol', 'task', 'code'] as const;
  const requests = new Counter({
    name: 'lumen_face_grpc_requests_total',
    help: "gRPC Infer requests answered, by task and outcome (OK or lumen-face's error code).",
    labelNames,
    registers,
  });
  const duration = new Histogram({
    name: 'lumen_face_grpc_request_duration_seconds',
    help: "Time from a gRPC Infer request's last chunk to its answer, by task and outcome.",
    labelNames,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const images = registry.getSingleMetric('lumen_face_faces_per_image') as Histogram<'protocol' | 'route'> | undefined;
  const stages = registry.getSingleMetric('lumen_face_stage_duration_seconds') as Histogram<'protocol' | 'route' | 'stage'> | undefined;
  return {
    answered(task, code, started, outcome) {
      const labels = { protocol: 'grpc', task: task || 'unknown', code };
      requests.inc(labels);
      duration.observe(labels, (performance.now() - started) / 1000);
      if (!outcome) return;
      images?.observe({ route: task, protocol: 'grpc' }, outcome.faces.length);
      for (const [stage, ms] of Object.entries(outcome.timings)) stages?.observe({ route: task, stage, protocol: 'grpc' }, ms / 1000);
    },
  };
}
