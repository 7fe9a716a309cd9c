import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { buildApp } from '../app.js';
import { loadConfig } from '../src/config.js';
import { testEnv } from '../dev/fixtures.js';

/** What the benchmarks share to start a server and read its figures. */

/** A TCP port free on 127.0.0.1 at the time of asking. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
      .listen(0, '127.0.0.1', () => {
        const { port } = s.address() as { port: number };
        s.close(() => resolve(port));
      })
      .on('error', reject);
  });
}

/** Resident memory of a process, in MB (Linux). */
export function rssMb(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) / 1024 : NaN;
}

export const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** The app on the shared pack `model`, loaded and listening on a free port of 127.0.0.1. */
export async function listeningApp(model: string) {
  const app = await buildApp({ config: loadConfig(testEnv({ LUMEN_FACE_MODEL_NAME: model })), logger: false });
  await app.faceBackend.loaded;
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  return { app, base };
}
