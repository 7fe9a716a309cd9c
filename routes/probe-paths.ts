/** Liveness and readiness: public even with API keys, answered for any Host, logged only at debug. */
export const PROBE_PATHS = ['/healthz', '/readyz'] as const;

export const isProbePath = (route: string): boolean => (PROBE_PATHS as readonly string[]).includes(route);

/** immich's machine-learning routes (routes/immich.ts), public only with LUMEN_FACE_IMMICH=public. */
export const IMMICH_ROUTES: readonly string[] = ['/', '/ping', '/predict'];

/** Prometheus scrapes here; public (no key, any Host) only with LUMEN_FACE_METRICS_PUBLIC. */
export const METRICS_PATH = '/metrics';
