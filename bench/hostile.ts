import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { CLIENTS, multipartBody, sendAll } from './refusal-clients.js';
import { buildApp } from '../app.js';
import { loadConfig } from '../src/config.js';
import { MODELS_DIR, readFace, testEnv } from '../dev/fixtures.js';

/**
 * Hostile clients with the default settings, over real sockets (the server in its own process where
 * clients and server must not share an event loop):
 * - early refusals: each client (fetch, http.request, curl, Python requests) x body size, 20 tries;
 * - abort: a 12 x 12 MP batch abandoned 0.8 s in: the next request's time, the log line and the metric;
 * - amplification: four costly requests, wall time, server CPU, faces or the refusal;
 * - 32 uploads trickling 1 byte/s: when each is cut, and a normal request meanwhile;
 * - connections at the cap: idle sockets opened and held, /healthz;
 * - slot recovery: 32 uploads (LUMEN_FACE_MAX_INFLIGHT) send their headers and nothing more; how long
 *   until an image request is served again;
 * - shutdown: `node dist/server.js` with one stalled upload in flight; time from SIGTERM to exit;
 */

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const stallHead = (url: string) => `POST ${url} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=B\r\nContent-Length: 100000\r\n\r\n`;

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
  const answers = Array.from(
    { length: config.maxInflight },
    () =>
      new Promise<number>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(stallHead('/v1/faces')));
        let first = '';
        socket.on('data', (d) => (first ||= String(d).slice(0, 12)));
        socket.on('error', () => undefined);
        socket.on('close', () => resolve(Number(first.slice(9, 12))));
      }),
  );
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
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
      LUMEN_FACE_MODEL_NAME: 'scrfd_2.5g_mbf',
      LUMEN_FACE_PRECISION: 'fp32',
      LUMEN_FACE_OFFLINE: '1',
      LUMEN_FACE_PORT: '0',
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

/** `node dist/server.js` on the defaults (the shared 2.5g pack, offline), listening on a free port. */
async function serverProcess(
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; base: string; output: () => string; stop: () => Promise<void> }> {
  const server = new URL('../server.js', import.meta.url).pathname;
  const child = spawn(process.execPath, [server], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
      LUMEN_FACE_MODEL_NAME: 'scrfd_2.5g_mbf',
      LUMEN_FACE_PRECISION: 'fp32',
      LUMEN_FACE_OFFLINE: '1',
      LUMEN_FACE_PORT: '0',
      ...env,
    },
  });
  let output = '';
  child.stdout.on('data', (d) => (output += d));
  child.stderr.on('data', (d) => (output += d));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  for (;;) {
    const match = /Server listening at (http:\/\/127\.0\.0\.1:\d+)[\s\S]*"msg":"ready"/.exec(output);
    if (match)
      return {
        child,
        base: match[1],
        output: () => output,
        stop: async () => {
          child.kill('SIGKILL');
          await exited;
        },
      };
    if (child.exitCode !== null) throw new Error(`the server exited:\n${output}`);
    await sleep(50);
  }
}

/** CPU seconds a process has used (all its threads), from /proc. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function refusalTable(): Promise<string[]> {
  const key = 'bench-key-1';
  const server = await serverProcess({ LUMEN_FACE_API_KEYS: key });
  const dir = mkdtempSync(join(tmpdir(), 'lumen-bench-refusals-'));
  const kinds: Array<{ path: string; method: string; headers: Record<string, string> }> = [
    { path: '/v1/faces?min_score=abc', method: 'POST', headers: { 'x-api-key': key } },
    { path: '/v1/faces/batch?nms=2', method: 'POST', headers: { 'x-api-key': key } },
    { path: '/v1/embed?bogus=1', method: 'POST', headers: { 'x-api-key': key } },
    { path: '/v1/detect', method: 'POST', headers: { 'x-api-key': 'wrong' } },
    { path: '/v1/faces', method: 'POST', headers: {} },
    { path: '/v1/nothing', method: 'POST', headers: { 'x-api-key': key } },
    { path: '/v1/faces', method: 'PUT', headers: { 'x-api-key': key } },
    { path: '/v1/faces', method: 'POST', headers: { 'x-api-key': key, 'x-padding': 'p'.repeat(20_000) } },
  ];
  const sizes = [1_000, 120_000, 1_300_000, 8_000_000];
  const lines = [
    '## early refusals (400 knob, 401, 404, 405, 431), 20 tries per client and body size, answered / network errors, median ms',
    `| client | ${sizes.map((s) => `${s / 1000} KB`).join(' | ')} |`,
    `|---|${sizes.map(() => '---').join('|')}|`,
  ];
  for (const client of CLIENTS) {
    const cells: string[] = [];
    for (const size of sizes) {
      const { body, contentType } = multipartBody(size);
      const tries = Array.from({ length: 20 }, (_, i) => {
        const kind = kinds[i % kinds.length];
        return { method: kind.method, url: `${server.base}${kind.path}`, headers: { ...kind.headers, 'content-type': contentType }, body };
      });
      const seen = await sendAll(client, tries, dir);
      const answered = seen.filter((s) => s.status !== undefined && s.code !== undefined && !s.code.startsWith('(')).length;
      cells.push(`${answered} / ${seen.filter((s) => s.error).length}, ${median(seen.map((s) => s.ms)).toFixed(0)}`);
    }
    lines.push(`| ${client} | ${cells.join(' | ')} |`);
  }
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
  return lines;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function twelveMp(path: string, quality = 80): Promise<Buffer> {
  return sharp(readFace(path)).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality }).toBuffer();
}

async function abortFigures(): Promise<string[]> {
  const server = await serverProcess();
  const big = await twelveMp('groups/t1.jpg');
  const small = readFace('identities/Angelina_Jolie/01.jpg');
  const timed = async () => {
    const started = performance.now();
    const res = await fetch(`${server.base}/v1/faces`, { method: 'POST', body: imageForm(small) });
    await res.arrayBuffer();
    return { status: res.status, ms: performance.now() - started };
  };
  await timed();
  const normal = median([(await timed()).ms, (await timed()).ms, (await timed()).ms]);
  const form = new FormData();
  for (let i = 0; i < 12; i++) form.append('image', new Blob([new Uint8Array(big)], { type: 'image/jpeg' }), 'a.jpg');
  const cpuBefore = cpuSeconds(server.child.pid!);
  const controller = new AbortController();
  const batch = fetch(`${server.base}/v1/faces/batch`, { method: 'POST', body: form, signal: controller.signal }).catch(() => undefined);
  await sleep(800);
  controller.abort();
  await batch;
  const next = await timed();
  await sleep(3000);
  const cpuAfter = cpuSeconds(server.child.pid!);
  const line =
    server
      .output()
      .split('\n')
      .find((l) => l.includes('its work was stopped')) ?? '(no line)';
  const metric = /^lumen_face_work_outcomes_total\{[^}]*outcome="aborted"\} \d+$/m.exec(await (await fetch(`${server.base}/metrics`)).text())?.[0] ?? '(none)';
  await server.stop();
  return [
    '## abort: a 12 x 12 MP batch abandoned 0.8 s in (/v1/faces/batch, defaults)',
    `next /v1/faces: ${next.status} in ${next.ms.toFixed(0)} ms; its normal time ${normal.toFixed(0)} ms (ratio ${(next.ms / normal).toFixed(2)})`,
    `server CPU from the batch's start to 3 s after the abort: ${(cpuAfter - cpuBefore).toFixed(2)} s`,
    `log: ${line}`,
    `metric: ${metric}`,
  ];
}

async function amplification(): Promise<string[]> {
  const server = await serverProcess();
  const group = await twelveMp('groups/selfie_many_people.jpg');
  const empty = await twelveMp('noface/landscape_lake.jpg');
  const batchPhoto = await twelveMp('groups/t1.jpg', 95);
  const boxes = Array.from({ length: 256 }, (_, i) => [(i % 16) * 200, Math.floor(i / 16) * 150, (i % 16) * 200 + 150, Math.floor(i / 16) * 150 + 150]);
  const batchCount = Math.floor((32 * 1024 * 1024) / (batchPhoto.length + 1024));
  const requests: Array<{ name: string; path: string; photos: Buffer[]; fields?: Record<string, string> }> = [
    { name: '/v1/faces, defaults (12 MP group)', path: '/v1/faces', photos: [group] },
    { name: '/v1/faces?min_score=0&nms=1 (12 MP group)', path: '/v1/faces?min_score=0&nms=1', photos: [group] },
    { name: '/v1/faces?min_score=0&nms=1 (12 MP, no face)', path: '/v1/faces?min_score=0&nms=1', photos: [empty] },
    { name: '/v1/embed, 256 boxes without landmarks (12 MP, no face)', path: '/v1/embed', photos: [empty], fields: { boxes: JSON.stringify(boxes) } },
    {
      name: `/v1/faces/batch?min_score=0&nms=1, ${batchCount} x ${(batchPhoto.length / 1e6).toFixed(1)} MB (what fits the upload bound)`,
      path: '/v1/faces/batch?min_score=0&nms=1',
      photos: Array(batchCount).fill(batchPhoto),
    },
    {
      name: '/v1/faces/batch?min_score=0&nms=1, 32 x 4 MB (over the upload bound)',
      path: '/v1/faces/batch?min_score=0&nms=1',
      photos: Array(32).fill(Buffer.concat([batchPhoto, Buffer.alloc(Math.max(0, 4_000_000 - batchPhoto.length))])),
    },
  ];
  const lines = [
    '## amplification (defaults; server CPU of all its threads)',
    '| request | status | wall s | CPU s | faces | answer MB |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of requests) {
    const form = new FormData();
    for (const [k, v] of Object.entries(r.fields ?? {})) form.append(k, v);
    for (const photo of r.photos) form.append('image', new Blob([new Uint8Array(photo)], { type: 'image/jpeg' }), 'a.jpg');
    const cpu = cpuSeconds(server.child.pid!);
    const started = performance.now();
    const res = await fetch(`${server.base}${r.path}`, { method: 'POST', body: form });
    const text = await res.text();
    const wall = (performance.now() - started) / 1000;
    const used = cpuSeconds(server.child.pid!) - cpu;
    let faces = '';
    try {
      const body = JSON.parse(text) as { faces?: unknown[]; results?: Array<{ faces?: unknown[] }>; embeddings?: unknown[]; code?: string };
      faces = body.code ?? String(body.faces?.length ?? body.results?.reduce((n, x) => n + (x.faces?.length ?? 0), 0) ?? body.embeddings?.length ?? '');
    } catch {
      faces = '(not JSON)';
    }
    lines.push(`| ${r.name} | ${res.status} | ${wall.toFixed(2)} | ${used.toFixed(2)} | ${faces} | ${(text.length / 1e6).toFixed(2)} |`);
  }
  await server.stop();
  return lines;
}

async function tricklers(): Promise<string[]> {
  const server = await serverProcess();
  const port = Number(new URL(server.base).port);
  const started = performance.now();
  const cuts = Array.from(
    { length: 32 },
    () =>
      new Promise<{ s: number; status: string }>((resolve) => {
        const socket = net.connect(port, '127.0.0.1', () => socket.write(stallHead('/v1/faces')));
        const tick = setInterval(() => socket.write('x'), 1000);
        let first = '';
        socket.on('data', (d) => (first ||= String(d).slice(9, 12)));
        socket.on('error', () => undefined);
        socket.on('close', () => {
          clearInterval(tick);
          resolve({ s: (performance.now() - started) / 1000, status: first || 'none' });
        });
      }),
  );
  await sleep(2000);
  const res = await fetch(`${server.base}/v1/faces`, { method: 'POST', body: imageForm(readFace('identities/Angelina_Jolie/01.jpg')) });
  await res.arrayBuffer();
  const seen = await Promise.all(cuts);
  await server.stop();
  const times = seen.map((x) => x.s);
  return [
    '## 32 uploads trickling 1 byte/s (defaults: LUMEN_FACE_MIN_UPLOAD_RATE 500 bytes/s after LUMEN_FACE_MIN_UPLOAD_GRACE 20 s)',
    `a normal /v1/faces meanwhile: ${res.status}`,
    `cut after ${Math.min(...times).toFixed(1)} to ${Math.max(...times).toFixed(1)} s; answers: ${[...new Set(seen.map((x) => x.status))].join(', ')}`,
  ];
}

async function connectionsAtCap(): Promise<string[]> {
  const server = await serverProcess();
  const port = Number(new URL(server.base).port);
  const opened = 3000;
  let closedByServer = 0;
  const sockets = await Promise.all(
    Array.from(
      { length: opened },
      () =>
        new Promise<net.Socket>((resolve) => {
          const socket = net.connect(port, '127.0.0.1', () => resolve(socket));
          socket.on('error', () => resolve(socket));
          socket.on('close', () => closedByServer++);
        }),
    ),
  );
  await sleep(1000);
  const started = performance.now();
  const res = await fetch(`${server.base}/healthz`);
  await res.arrayBuffer();
  const ms = performance.now() - started;
  const closed = closedByServer;
  for (const s of sockets) s.destroy();
  await server.stop();
  return [
    '## connections at the cap (defaults: LUMEN_FACE_MAX_CONNECTIONS 256)',
    `${opened} idle connections opened; 1 s later the server had closed ${closed}, ${opened - closed} still open on the client side (the rest still in the kernel's accept queue count here too)`,
    `/healthz on a new connection: ${res.status} in ${ms.toFixed(0)} ms`,
  ];
}

export async function hostileBench(): Promise<string[]> {
  const sections = [refusalTable, abortFigures, amplification, tricklers, connectionsAtCap, slotRecovery, shutdownWithStalledUpload];
  const out: string[] = [];
  for (const section of sections) {
    const lines = await section();
    process.stderr.write(`${lines.join('\n')}\n\n`);
    out.push(...lines, '');
  }
  return out;
}
