import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { readFace, REPO_ROOT, testEnv } from '../dev/fixtures.js';
import { freePort, rssMb } from './servers.js';

/**
 * `npm run bench -- idle`: what LUMEN_FACE_MODEL_TTL saves. The real server (`node dist/server.js`) with
 * a TTL of 2 s: RSS while loaded, after the idle unload, and after the reload; the latency of the first
 * request after an unload against a warm one; and whether the answers are identical.
 */

const TTL_SECONDS = 2;
const PHOTO = 'groups/couple.jpg';
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function metric(base: string, name: string): Promise<number | undefined> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.split(' ')[1]);
}

async function faces(base: string, photo: Buffer): Promise<{ ms: number; body: string }> {
  const form = new FormData();
  form.append('image', new Blob([photo as BlobPart], { type: 'image/jpeg' }), 'photo.jpg');
  const start = performance.now();
  const res = await fetch(`${base}/v1/faces`, { method: 'POST', body: form });
  const body = await res.text();
  if (!res.ok) throw new Error(`/v1/faces answered ${res.status}: ${body}`);
  return { ms: performance.now() - start, body };
}

export async function idleBench(): Promise<string[]> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = { PATH: process.env.PATH, HOME: process.env.HOME, ...testEnv({ LUMEN_FACE_MODEL_TTL: String(TTL_SECONDS), LUMEN_FACE_PORT: String(port) }) };
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'server.js')], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    for (
      let i = 0;
      i < 600 &&
      !(await fetch(`${base}/readyz`).then(
        (r) => r.ok,
        () => false,
      ));
      i++
    )
      await sleep(100);
    const photo = readFace(PHOTO);
    const first = await faces(base, photo);
    const warm = await faces(base, photo);
    const loaded = rssMb(child.pid!);
    for (let i = 0; i < 200 && (await metric(base, 'lumen_face_models_loaded')) !== 0; i++) await sleep(100);
    await sleep(500);
    const unloaded = rssMb(child.pid!);
    const ready = (await fetch(`${base}/readyz`)).status;
    const reload = await faces(base, photo);
    const reloaded = rssMb(child.pid!);
    const warmAgain = await faces(base, photo);
    return [
      `## Idle unload: LUMEN_FACE_MODEL_TTL=${TTL_SECONDS}, scrfd_2.5g_mbf fp32, /v1/faces on ${PHOTO}`,
      '',
      '| | RSS MB |',
      '|:--|--:|',
      `| loaded, after two requests | ${loaded.toFixed(0)} |`,
      `| after the idle unload | ${unloaded.toFixed(0)} |`,
      `| after the reload | ${reloaded.toFixed(0)} |`,
      '',
      `- /readyz while unloaded: ${ready}`,
      `- latency: warm ${warm.ms.toFixed(0)} ms; first after the unload (waits for the reload) ${reload.ms.toFixed(0)} ms; warm again ${warmAgain.ms.toFixed(0)} ms`,
      `- answers identical after the reload: ${reload.body === first.body && warmAgain.body === first.body ? 'yes' : 'NO'}`,
      `- loads counted by /metrics: ${await metric(base, 'lumen_face_model_loads_total')}`,
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
}
