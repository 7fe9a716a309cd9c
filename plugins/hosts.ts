import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';
import { isProbePath, METRICS_PATH } from '../routes/probe-paths.js';

/** The host name of a `Host` header, lower case, without port or trailing dot (`[::1]:8000` gives `[::1]`). */
export function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  if (h.startsWith('[')) {
    const end = h.indexOf(']');
    return end < 0 ? h : h.slice(0, end + 1);
  }
  const colon = h.indexOf(':');
  return (colon < 0 ? h : h.slice(0, colon)).replace(/\.$/, '');
}

/**
 * Against DNS rebinding: a web page whose own name resolves to this server would send its own name as
 * `Host`. Probes answer any Host, since kubelets and load balancers send an IP address.
 */
export default fp<{ allowedHosts: readonly string[] | undefined; metricsPublic?: boolean }>(
  async function hostsPlugin(app: FastifyInstance, opts) {
    const allowed = opts.allowedHosts;
    if (!allowed) return;
    app.addHook('onRequest', async (request) => {
      const route = request.routeOptions.url ?? '';
      // Prometheus sends the pod's address as Host, like a kubelet does.
      if (isProbePath(route) || (opts.metricsPublic && route === METRICS_PATH)) return;
      const name = hostName(request.host ?? '');
      if (allowed.includes(name)) return;
      const shown = name.length > 64 ? `${name.slice(0, 64)}...` : name;
      throw new LumenError('MISDIRECTED_REQUEST', `expected a Host in LUMEN_FACE_ALLOWED_HOSTS, received ${JSON.stringify(shown)}`);
    });
  },
  { name: 'hosts' },
);
