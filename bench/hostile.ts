import { spawn } from 'node:child_process';
import net from 'node:net';
import { buildApp } from '../app.js';
import { loadConfig } from '../src/config.js';
import { MODELS_DIR, readFace, testEnv } from '../dev/fixtures.js';

/**
 * Hostile clients with the default settings, over real sockets:
 * - slot recovery: 32 uploads (LUMEN_FACE_MAX_INFLIGHT) send their headers and nothing more; how long
 *   until an image request is served again;
 * - shutdown: `node dist/server.js` with one stalled upload in flight; time from SIGTERM to exit;
 * - the faces cap: /v1/faces with `min_score=0&nms=1` on a group photo, faces embedded and time taken.
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stallHead = (url: string) =>
  `POST ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n`;

function imageForm(bytes: Buffer) {
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(bytes)], { type: 'image/jpeg' }), 'a.jpg');
  return form;
}

async function slotRecovery(): Promise<string[]> {
  const config = loadConfig(testEnv());
  const app = await buildApp({ config, logger: false });
  await app.faceBackend.loaded;
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const port = Number(new URL(base).port);
  const photo = readFace('identities/Angelina_Jolie/01.jpg');
  const started = performance.now();
  const answers = Array.from({ length: config.maxInflight }, () => new Promise<number>((resolve) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(stallHead('/v1/faces')));
    let first = '';
    socket.on('data', (d) => (first ||= String(d).slice(0, 12)));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Number(first.slice(9, 12))));
  }));
  let busy = 0;
  let seconds = NaN;
  for (;;) {
    const res = await fetch(`${base}/v1/detect`, { method: 'POST', body: imageForm(photo) });
    await res.arrayBuffer();
    if (res.status === 200) {
      seconds = (performance.now() - started) / 1000;
      break;
    }
    busy++;
    await sleep(250);
  }
  const statuses = await Promise.all(answers);
  await app.close();
  return [
    `## slot recovery (${config.maxInflight} uploads that send headers only; LUMEN_FACE_REQUEST_TIMEOUT=${config.requestTimeout})`,
    `image requests turned away with 503 meanwhile: ${busy}`,
    `the stalled clients got: ${[...new Set(statuses)].join(', ')}`,
    `an image request is served again after ${seconds.toFixed(2)} s`,
  ];
}

async function shutdownWithStalledUpload(): Promise<string[]> {
  const server = new URL('../server.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [server], {
    env: {
      PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
      LUMEN_FACE_MODEL_NAME: 'scrfd_2.5g_mbf', LUMEN_FACE_PRECISION: 'fp32', LUMEN_FACE_OFFLINE: '1', LUMEN_FACE_PORT: '0',
    },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const until = async (pattern: RegExp) => {
    for (let match = pattern.exec(output); !match; match = pattern.exec(output)) await sleep(50);
    return pattern.exec(output) as RegExpExecArray;
  };
  const [, port] = await until(/Server listening at http:\/\/127\.0\.0\.1:(\d+)[\s\S]*"msg":"ready"/);
  const socket = net.connect(Number(port), '127.0.0.1', () => socket.write(stallHead('/v1/faces')));
  socket.on('error', () => undefined);
  // Fastify's per-request lines are off (plugins/request-log.ts): wait until /metrics counts the upload
  // in flight, besides the scrape itself.
  const inFlight = async () => Number(/^lumen_face_http_requests_in_flight (\d+)$/m.exec(await (await fetch(`http://127.0.0.1:${port}/metrics`)).text())?.[1]);
  while ((await inFlight()) < 2) await sleep(50);
  const signalled = performance.now();
  child.kill('SIGTERM');
  const code = await exited;
  const seconds = (performance.now() - signalled) / 1000;
  socket.destroy();
  const timeout = /"timeoutSeconds":([\d.]+)/.exec(output)?.[1];
  return [
    `## shutdown with one stalled upload in flight (LUMEN_FACE_SHUTDOWN_TIMEOUT=${timeout})`,
    `SIGTERM to exit: ${seconds.toFixed(2)} s, exit code ${code}`,
  ];
}

async function facesCap(): Promise<string[]> {
  const config = loadConfig(testEnv());
  const app = await buildApp({ config, logger: false });
  await app.faceBackend.loaded;
  const base = await app.listen({ host: '127.0.0.1', port: 0 });
  const group = readFace('groups/t1.jpg');
  const lines = [`## faces embedded per image (LUMEN_FACE_MAX_FACES=${config.maxFaces}, scrfd_2.5g_mbf fp32, groups/t1.jpg)`];
  for (const query of ['', '?min_score=0&nms=1']) {
    await (await fetch(`${base}/v1/faces${query}`, { method: 'POST', body: imageForm(group) })).arrayBuffer();
    const started = performance.now();
    const res = await fetch(`${base}/v1/faces${query}`, { method: 'POST', body: imageForm(group) });
    const body = await res.text();
    const ms = performance.now() - started;
    const faces = (JSON.parse(body) as { faces: unknown[] }).faces.length;
    lines.push(`/v1/faces${query || ' (defaults)'}: ${faces} faces, ${ms.toFixed(0)} ms, ${(body.length / 1e6).toFixed(2)} MB`);
  }
  await app.close();
  return lines;
}

export async function hostileBench(): Promise<string[]> {
  return [...(await facesCap()), ...(await slotRecovery()), ...(await shutdownWithStalledUpload())];
}
