import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { parseAllDocuments } from 'yaml';
import { buildApp } from '../../app.js';
import { loadConfig } from '../../src/config.js';
import { copyParts, envPairs, parseDockerfile } from '../helpers/dockerfile.js';
import { isProbePath } from '../../routes/probe-paths.js';
import { CONFIG_NAMES, exists, FOREIGN_NAMES, producedByBuild, read, REPO_ROOT, routeChecker } from '../helpers/deploy.js';

/** The manifests and compose.yaml, loaded with a real YAML parser and checked against routes and config. */

// biome-ignore lint/suspicious/noExplicitAny: parsed YAML, walked by the key paths each assertion names (a wrong path fails the assertion)
type Doc = any;

const run = promisify(execFile);

/** The status of a GET with this Host header (fetch() cannot set Host; a container calling http://lumen-face:8000 sends it). */
const statusFor = (address: URL, path: string, host: string) =>
  new Promise<number>((resolve, reject) => {
    request({ host: address.hostname, port: address.port, path, headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode!);
    })
      .on('error', reject)
      .end();
  });
const routes = await routeChecker();
t.teardown(() => routes.close());

const dir = 'deploy/kubernetes';
const docs: Doc[] = readdirSync(join(REPO_ROOT, dir))
  .filter((f) => f.endsWith('.yaml'))
  .flatMap((f) =>
    parseAllDocuments(read(`${dir}/${f}`)).map((d) => {
      if (d.errors.length > 0) throw new Error(`${f}: ${d.errors[0].message}`);
      return d.toJS();
    }),
  );
const byKind = (kind: string): Doc[] => docs.filter((d) => d?.kind === kind);
const one = (kind: string): Doc => {
  const found = byKind(kind);
  if (found.length !== 1) throw new Error(`expected one ${kind}, found ${found.length}`);
  return found[0];
};

const deployment = one('Deployment');
const pod = deployment.spec.template.spec;
const server = pod.containers.find((c: Doc) => c.name === 'lumen-face');
const configMap = one('ConfigMap');
const settings: Record<string, string> = configMap.data;

/** A container's variables: its env entries, and the ConfigMaps it loads. */
function envOf(container: Doc): Map<string, string | undefined> {
  const env = new Map<string, string | undefined>();
  for (const source of container.envFrom ?? []) {
    const map = byKind('ConfigMap').find((c) => c.metadata.name === source.configMapRef?.name);
    if (!map) throw new Error(`ConfigMap ${source.configMapRef?.name} not in the manifests`);
    for (const [k, v] of Object.entries(map.data)) env.set(k, v as string);
  }
  for (const e of container.env ?? []) env.set(e.name, e.value);
  return env;
}

t.test('every variable is in the config table', async (t) => {
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    for (const name of envOf(container).keys()) t.ok(CONFIG_NAMES.has(name) || FOREIGN_NAMES.has(name), `${container.name}: ${name}`);
  }
  t.equal(settings.LUMEN_FACE_HOST, '0.0.0.0');
});

t.test('probes ask the right routes on the right port', async (t) => {
  const port = server.ports.find((p: Doc) => p.name === 'http');
  t.equal(String(port.containerPort), settings.LUMEN_FACE_PORT, 'containerPort is LUMEN_FACE_PORT');
  const expected = { startupProbe: '/readyz', readinessProbe: '/readyz', livenessProbe: '/healthz' } as const;
  for (const [probe, path] of Object.entries(expected)) {
    const get = server[probe]?.httpGet;
    t.equal(get?.path, path, `${probe} asks ${path}`);
    t.ok(routes.has('GET', get.path), `${get.path} is a route`);
    t.ok(isProbePath(get.path), `${get.path} needs no key and no allowed Host`);
    t.ok(get.port === 'http' || String(get.port) === settings.LUMEN_FACE_PORT, `${probe} port`);
  }
  t.ok(server.startupProbe.periodSeconds * server.startupProbe.failureThreshold >= 120, 'the startup probe allows for the model load');
  t.equal(deployment.spec.template.metadata.annotations['prometheus.io/path'], '/metrics');
  t.ok(routes.has('GET', '/metrics'));
  t.equal(deployment.spec.template.metadata.annotations['prometheus.io/port'], settings.LUMEN_FACE_PORT);
});

t.test('the Service reaches the container port', async (t) => {
  const service = one('Service');
  t.same(service.spec.selector, deployment.spec.selector.matchLabels);
  t.same(deployment.spec.template.metadata.labels, deployment.spec.selector.matchLabels);
  for (const p of service.spec.ports)
    t.ok(
      server.ports.some((c: Doc) => c.name === p.targetPort || c.containerPort === p.targetPort),
      `targetPort ${p.targetPort}`,
    );
});

t.test("gRPC: LUMEN_FACE_GRPC_PORT is the container's grpc port, which the Service exposes", async (t) => {
  t.ok(settings.LUMEN_FACE_GRPC_PORT, 'gRPC is on');
  const port = server.ports.find((p: Doc) => p.name === 'grpc');
  t.equal(String(port?.containerPort), settings.LUMEN_FACE_GRPC_PORT, 'containerPort is LUMEN_FACE_GRPC_PORT');
  const grpcPort = one('Service').spec.ports.find((p: Doc) => p.targetPort === 'grpc');
  t.ok(grpcPort, 'the Service has a port to it');
  t.equal(grpcPort.appProtocol, 'kubernetes.io/h2c', 'declared as HTTP/2 without TLS');
});

t.test('resources, and workers tied to the CPU limit', async (t) => {
  const { requests, limits } = server.resources;
  t.ok(requests.cpu && requests.memory && limits.cpu && limits.memory, 'requests and limits');
  const workers = server.env.find((e: Doc) => e.name === 'LUMEN_FACE_WORKERS');
  t.same(workers.valueFrom.resourceFieldRef, { containerName: server.name, resource: 'limits.cpu', divisor: '1' });
  t.equal(server.env.find((e: Doc) => e.name === 'LUMEN_FACE_INTRA_OP_THREADS').value, '1', 'one thread per worker');
  const mib = (q: string) => Number(/^(\d+)Gi$/.exec(q)?.[1] ?? NaN) * 1024 || Number(/^(\d+)Mi$/.exec(q)?.[1]);
  t.ok(mib(limits.memory) >= 1024, 'room above the measured RSS (README)');
});

t.test('the server runs offline on the pack baked into its image', async (t) => {
  const env = envOf(server);
  t.equal(env.get('LUMEN_FACE_OFFLINE'), '1', 'LUMEN_FACE_OFFLINE=1: a missing pack fails the start, no download');
  t.notOk(pod.initContainers, 'no fetch at pod start');
  t.notOk(
    pod.volumes.some((v: Doc) => v.emptyDir && server.volumeMounts.some((m: Doc) => m.name === v.name && m.mountPath === '/cache')),
    'no per-pod cache volume',
  );
  const { stages } = parseDockerfile(read('Dockerfile'));
  const final = stages[stages.length - 1];
  const imageEnv = new Map(final.instructions.filter((i) => i.keyword === 'ENV').flatMap(envPairs));
  const packs = imageEnv.get('LUMEN_FACE_LOCAL_DIR');
  t.ok(packs, 'the image names its pack folder as LUMEN_FACE_LOCAL_DIR');
  t.ok(
    final.instructions.some((i) => i.keyword === 'COPY' && copyParts(i).dest === packs),
    'the pack folder comes from the build stage',
  );
  const fetch = stages[0].instructions.find((i) => i.keyword === 'RUN' && /dist\/cli\/main\.js fetch/.test(i.args));
  t.ok(fetch, 'the build stage fetches the pack named by --build-arg PACK');
  t.match(fetch!.args, /LUMEN_FACE_MODEL_NAME="\$PACK"/);
  t.ok(producedByBuild('dist/cli/main.js'), 'the CLI it runs is produced by the build');
});

t.test('the image reference is set once, in kustomization.yaml', async (t) => {
  const kustomization = one('Kustomization');
  const files = readdirSync(join(REPO_ROOT, dir)).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml');
  t.same([...kustomization.resources].sort(), files.sort(), 'every manifest is a resource');
  const images = new Set(kustomization.images.map((i: Doc) => i.name));
  for (const c of [...(pod.initContainers ?? []), ...pod.containers]) t.ok(images.has(c.image), `${c.name}: ${c.image} is replaced by kustomize`);
  t.notMatch(read(`${dir}/deployment.yaml`), /image: \S+[:@]/, 'no tag or registry in the Deployment');
  // kubectl carries kustomize; render as `kubectl apply -k` would when it is installed.
  const rendered = await run('kubectl', ['kustomize', join(REPO_ROOT, dir)]).then(
    (r) => r.stdout,
    () => undefined,
  );
  if (rendered === undefined) return;
  const image = kustomization.images[0];
  t.match(rendered, `image: ${image.newName}:${image.newTag}`, 'kustomize renders the image set here');
});

t.test('Prometheus scrapes a pod that requires API keys', async (t) => {
  const annotations = deployment.spec.template.metadata.annotations;
  t.equal(annotations['prometheus.io/scrape'], 'true');
  const env = Object.fromEntries([...envOf(server)].filter(([k]) => k.startsWith('LUMEN_FACE_'))) as Record<string, string>;
  const keyFile = join(mkdtempSync(join(tmpdir(), 'lumen-keys-')), 'keys');
  writeFileSync(keyFile, 'k8s-test-key\n');
  const config = loadConfig({
    ...env,
    LUMEN_FACE_API_KEYS_FILE: keyFile,
    LUMEN_FACE_ALLOWED_HOSTS: 'lumen-face.example',
    LUMEN_FACE_HOST: '127.0.0.1',
    LUMEN_FACE_PORT: '0',
    LUMEN_FACE_LOCAL_DIR: '/nonexistent',
    LUMEN_FACE_WORKERS: '1',
  });
  const app = await buildApp({ config, logger: false });
  t.teardown(() => app.close());
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  // Prometheus sends no key and the pod's address as Host.
  const scrape = await fetch(`${address}${annotations['prometheus.io/path']}`);
  t.equal(scrape.status, 200, '/metrics answers without a key, for any Host');
  t.match(await scrape.text(), /lumen_face_http_requests_total/);
  t.equal(await statusFor(new URL(address), '/v1/info', 'lumen-face.example'), 401, 'the API still needs a key');
  t.equal(await statusFor(new URL(address), '/v1/info', new URL(address).host), 421, 'and an allowed Host');
});

t.test('the API key comes from a Secret, as a file', async (t) => {
  const file = envOf(server).get('LUMEN_FACE_API_KEYS_FILE');
  t.ok(file, 'LUMEN_FACE_API_KEYS_FILE is set');
  const mount = server.volumeMounts.find((m: Doc) => file!.startsWith(`${m.mountPath}/`));
  t.ok(mount?.readOnly, 'mounted read-only');
  const volume = pod.volumes.find((v: Doc) => v.name === mount.name);
  t.ok(volume.secret?.secretName, 'from a Secret');
  t.notOk(
    docs.some((d) => d.kind === 'Secret'),
    'no key is committed',
  );
  for (const container of [...(pod.initContainers ?? []), ...pod.containers]) {
    const path = envOf(container).get('LUMEN_FACE_API_KEYS_FILE');
    if (path)
      t.ok(
        container.volumeMounts.some((m: Doc) => path.startsWith(`${m.mountPath}/`)),
        `${container.name} mounts the key file it is told to read`,
      );
  }
});

t.test('scaling, disruption and draining', async (t) => {
  const hpa = one('HorizontalPodAutoscaler');
  t.same(hpa.spec.scaleTargetRef, { apiVersion: 'apps/v1', kind: 'Deployment', name: deployment.metadata.name });
  t.equal(hpa.spec.metrics[0].resource.name, 'cpu');
  t.ok(hpa.spec.minReplicas >= 2, 'two pods, so one can drain');
  const pdb = one('PodDisruptionBudget');
  t.same(pdb.spec.selector.matchLabels, deployment.spec.selector.matchLabels);
  const pause = server.lifecycle.preStop.exec.command;
  t.equal(pause[0], 'sleep');
  t.ok(pod.terminationGracePeriodSeconds > Number(pause[1]), 'the grace period outlasts the preStop pause');
  t.equal(server.securityContext.allowPrivilegeEscalation, false);
  t.equal(pod.securityContext.runAsNonRoot, true);
});

t.test('compose.yaml: the CPU service, its port, cache volume and variables', async (t) => {
  const compose: Doc = parseAllDocuments(read('compose.yaml'))[0].toJS();
  const service = compose.services['lumen-face'];
  t.equal(service.build, '.', 'built from the Dockerfile');
  for (const name of Object.keys(service.environment)) t.ok(CONFIG_NAMES.has(name), name);
  const [published] = service.ports as string[];
  t.equal(published.split(':').at(-1), service.environment.LUMEN_FACE_PORT, 'the container port is LUMEN_FACE_PORT');
  const grpcPublished = (service.ports as string[]).filter((p) => p.split(':').at(-1) === service.environment.LUMEN_FACE_GRPC_PORT);
  t.equal(grpcPublished.length, service.environment.LUMEN_FACE_GRPC_PORT ? 1 : 0, 'LUMEN_FACE_GRPC_PORT is published when set');
  const [volume, target] = (service.volumes[0] as string).split(':');
  t.ok(volume in compose.volumes, 'a named volume');
  t.equal(target, '/cache', 'the image keeps its cache in /cache');
  t.match(read('Dockerfile'), /LUMEN_FACE_CACHE_DIR=\/cache/);
  // The commented variants name only known variables too.
  for (const m of read('compose.yaml').matchAll(/^\s*#.*?\b((?:LUMEN_FACE)_[A-Z_]+):/gm)) t.ok(CONFIG_NAMES.has(m[1]), `commented ${m[1]}`);
  for (const m of read('compose.yaml').matchAll(/dockerfile: (\S+) \}/g)) t.ok(exists(m[1]), `${m[1]} exists`);
});

t.test('compose.yaml: another container reaches the service by its name', async (t) => {
  const compose: Doc = parseAllDocuments(read('compose.yaml'))[0].toJS();
  const [name, service] = Object.entries(compose.services as Record<string, Doc>)[0];
  const config = loadConfig({
    ...service.environment,
    LUMEN_FACE_HOST: '127.0.0.1',
    LUMEN_FACE_PORT: '0',
    LUMEN_FACE_LOCAL_DIR: '/nonexistent',
    LUMEN_FACE_OFFLINE: '1',
    LUMEN_FACE_WORKERS: '1',
  });
  const app = await buildApp({ config, logger: false });
  t.teardown(() => app.close());
  const address = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  const ask = (host: string) => statusFor(address, '/metrics', host);
  t.equal(await ask(`${name}:${service.environment.LUMEN_FACE_PORT}`), 200, `Host: ${name}:${service.environment.LUMEN_FACE_PORT}`);
  t.equal(await ask('localhost:8000'), 200, 'Host: localhost:8000');
  t.equal(await ask('rebound.example:8000'), 421, 'any other name is still refused');
});
