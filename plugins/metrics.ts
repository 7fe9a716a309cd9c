import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { isProbePath } from '../routes/probe-paths.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** The Prometheus registry behind GET /metrics (one per app, so tests can build several). */
    metrics: Registry;
    /** Count how an image request's work ended when no answer tells it (`aborted`: its client went away). */
    countOutcome(route: string, outcome: 'aborted'): void;
  }
}

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const STAGE_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const FACE_BUCKETS = [0, 1, 2, 3, 5, 10, 20, 50, 100, 200, 500];

export default fp(
  async function metricsPlugin(app: FastifyInstance) {
    const registry = new Registry();
    const registers = [registry];
    collectDefaultMetrics({ register: registry });

    const httpLabels = ['method', 'route', 'status'] as const;
    const requests = new Counter({
      name: 'lumen_face_http_requests_total',
      help: 'HTTP requests answered, by method, route pattern and status.',
      labelNames: httpLabels,
      registers,
    });
    const duration = new Histogram({
      name: 'lumen_face_http_request_duration_seconds',
      help: 'Time from receiving a request to sending the answer, by method, route pattern and status.',
      labelNames: httpLabels,
      buckets: LATENCY_BUCKETS,
      registers,
    });
    const errors = new Counter({
      name: 'lumen_face_http_errors_total',
      help: 'Error answers by status and error code (503 by BUSY or NOT_READY, 401, 413...).',
      labelNames: ['status', 'code'],
      registers,
    });
    const inFlight = new Gauge({ name: 'lumen_face_http_requests_in_flight', help: 'Requests received and not yet answered.', registers });
    const stages = new Histogram({
      name: 'lumen_face_stage_duration_seconds',
      help: 'Time an image request spent in each pipeline stage (decode, detect, align, embed, ...), by route (or gRPC task) and protocol.',
      labelNames: ['route', 'stage', 'protocol'],
      buckets: STAGE_BUCKETS,
      registers,
    });
    // `protocol` is http here and grpc for the gRPC service (grpc/metrics.ts), whose `route` is the task.
    const faces = new Histogram({
      name: 'lumen_face_faces_per_image',
      help: 'Faces answered per image, by route (or gRPC task) and protocol.',
      labelNames: ['route', 'protocol'],
      buckets: FACE_BUCKETS,
      registers,
    });
    const outcomes = new Counter({
      name: 'lumen_face_work_outcomes_total',
      help: 'Image requests whose work ended without an answer, by route and outcome (aborted: the client went away and the work was stopped).',
      labelNames: ['route', 'outcome'],
      registers,
    });
    app.decorate('countOutcome', (route: string, outcome: 'aborted') => outcomes.inc({ route, outcome }));
    const modelLoad = new Gauge({ name: 'lumen_face_model_load_seconds', help: 'Time to resolve (and download) the pack and load both models.', registers });
    const modelInfo = new Gauge({
      name: 'lumen_face_model_info',
      help: 'Always 1 once the models are loaded; the labels say what runs.',
      labelNames: ['model', 'layout', 'runtime', 'device', 'providers', 'precision', 'dim'],
      registers,
    });

    const backend = () => {
      const { state } = app.faceBackend;
      return state.status === 'ready' ? state.backend : undefined;
    };
    /** A gauge read at each scrape; no value (0) while `read` has none, such as before the load or after an idle unload. */
    const sampled = (name: string, help: string, read: () => number | undefined) =>
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.reset();
          const value = read();
          if (value !== undefined) this.set(value);
        },
      });
    sampled('lumen_face_workers', 'Inference worker threads (onnxrt).', () => backend()?.stats?.()?.workers);
    sampled(
      'lumen_face_worker_utilization',
      "Share of the workers' capacity spent running models since start, 0 to 1 (piscina's estimate).",
      () => backend()?.stats?.()?.utilization,
    );
    sampled('lumen_face_worker_queue_size', 'Model runs waiting for a free worker.', () => backend()?.stats?.()?.queued);

    const loadState = () => backend()?.loadState?.();
    sampled(
      'lumen_face_models_loaded',
      '1 while the models are in memory, 0 after LUMEN_FACE_MODEL_TTL freed them (the next request loads them again).',
      () => {
        const state = loadState();
        return state === undefined ? undefined : state.loaded ? 1 : 0;
      },
    );
    new Counter({
      name: 'lumen_face_model_loads_total',
      help: 'Times the models were loaded since start: 1, plus one per reload after an idle unload.',
      registers,
      collect() {
        const state = loadState();
        if (state) {
          this.reset();
          this.inc(state.loads);
        }
      },
    });

    const loadStart = performance.now();
    app.faceBackend.loaded.then(
      (backend) => {
        modelLoad.set((performance.now() - loadStart) / 1000);
        const info = backend.info();
        modelInfo.set(
          {
            model: info.model.name,
            layout: info.pack.layout,
            runtime: info.runtime,
            device: info.device,
            providers: info.providers.join(','),
            precision: info.model.precision,
            dim: String(info.model.dim),
          },
          1,
        );
      },
      () => undefined, // the backend plugin logs the failure; /readyz reports it
    );

    app.decorate('metrics', registry);

    app.addHook('onRequest', async (_request, reply) => {
      inFlight.inc();
      // 'close' comes exactly once, whether the answer was sent or the client went away.
      reply.raw.once('close', () => inFlight.dec());
    });

    app.addHook('onResponse', async (request, reply) => {
      const route = request.routeOptions.url ?? 'unmatched';
      const status = String(reply.statusCode);
      requests.inc({ method: request.method, route, status });
      duration.observe({ method: request.method, route, status }, reply.elapsedTime / 1000);
      // A probe's 503 is its answer ("loading"), not a refused request.
      const probe = isProbePath(route);
      if (reply.statusCode >= 400 && !probe) errors.inc({ status, code: request.errorCode ?? 'unknown' });
      const stats = request.pipelineStats;
      for (const image of stats?.images ?? []) {
        faces.observe({ route, protocol: 'http' }, image.faces);
        for (const [stage, ms] of Object.entries(image.timings)) stages.observe({ route, stage, protocol: 'http' }, ms / 1000);
      }
    });
  },
  { name: 'metrics', dependencies: ['request-log'] },
);
