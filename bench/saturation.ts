import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildApp } from '../app.js';
import { loadConfig } from '../src/config.js';
import { FACES_DIR, percentile, testEnv } from '../dev/fixtures.js';

/**
 * /healthz latency over a real socket while the service is saturated with /v1/faces requests,
 * compared with the same probe on an idle service.
 */

async function probe(url: string, count: number, gapMs: number): Promise<number[]> {
  const times: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    const res = await fetch(url);
    await res.arrayBuffer();
    times.push(performance.now() - start);
    await new Promise((r) => setTimeout(r, gapMs));
  }
  return times.sort((a, b) => a - b);
}

export async function saturationBench(model = 'scrfd_2.5g_mbf', concurrency = 8, probes = 100): Promise<string[]> {
  const config = loadConfig(testEnv({ LUMEN_FACE_MODEL_NAME: model }));
  const app = await buildApp({ config, logger: false });
  await app.faceBackend.loaded;
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const photo = readFileSync(join(FACES_DIR, 'groups/t1.jpg'));

  const idle = await probe(`${base}/healthz`, probes, 5);

  let running = true;
  let completed = 0;
  const load = async () => {
    while (running) {
      const form = new FormData();
      form.append('image', new Blob([photo], { type: 'image/jpeg' }), 't1.jpg');
      const res = await fetch(`${base}/v1/faces`, { method: 'POST', body: form });
      await res.arrayBuffer();
      if (res.ok) completed++;
    }
  };
  const loaders = Array.from({ length: concurrency }, load);
  await new Promise((r) => setTimeout(r, 1000));
  const started = performance.now();
  const completedBefore = completed;
  const busy = await probe(`${base}/healthz`, probes, 20);
  const seconds = (performance.now() - started) / 1000;
  const throughput = (completed - completedBefore) / seconds;
  running = false;
  await Promise.all(loaders);
  await app.close();

  const row = (name: string, t: number[]) =>
    `${name.padEnd(34)} p50 ${percentile(t, 50).toFixed(1).padStart(6)} ms   p99 ${percentile(t, 99).toFixed(1).padStart(6)} ms   max ${t[t.length - 1].toFixed(1).padStart(6)} ms`;
  return [
    `## /healthz under load (${model}, ${concurrency} concurrent /v1/faces on groups/t1.jpg, ${probes} probes, real socket)`,
    row('/healthz, idle', idle),
    row(`/healthz, saturated`, busy),
    `/v1/faces throughput while probing: ${throughput.toFixed(1)} requests/s (6 faces each)`,
  ];
}
