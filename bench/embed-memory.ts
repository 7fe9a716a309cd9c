/**
 * Peak RSS of the real server (`node dist/server.js`, as `npm start` runs it) for hostile /v1/embed
 * requests (many boxes must not multiply memory). Each case runs in a fresh server process,
 * so the figure is that process's own peak (VmHWM), read from /proc before and after the request.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { readFace, REPO_ROOT, testEnv } from '../dev/fixtures.js';
import { freePort } from './servers.js';

const MB = 1024 * 1024;

interface Case {
  name: string;
  image: () => Promise<Buffer>;
  boxes?: string;
  filename: string;
  env?: Record<string, string>;
}

/** t1.jpg scaled into a 6000x4000 JPEG, as in the big-photo quality test. */
async function bigJpeg(): Promise<Buffer> {
  const placed = await sharp(readFace('groups/t1.jpg')).rotate().resize({ width: 5376 }).jpeg({ quality: 95 }).toBuffer();
  return sharp({ create: { width: 6000, height: 4000, channels: 3, background: { r: 128, g: 128, b: 128 } } })
    .composite([{ input: placed, left: 312, top: 140 }])
    .jpeg({ quality: 90 })
    .toBuffer();
}

/** A 10000x10000 PNG (100 MP, the default LUMEN_FACE_MAX_PIXELS) of the same group photo. */
async function hugePng(): Promise<Buffer> {
  return sharp(readFace('groups/t1.jpg'))
    .rotate()
    .resize(10000, 10000, { fit: 'contain', background: { r: 128, g: 128, b: 128 } })
    .png({ compressionLevel: 1 })
    .toBuffer();
}

const box = [1, 1, 5999, 3999];
export const CASES: Case[] = [
  { name: '6000x4000 JPEG, 64 boxes [1,1,5999,3999]', image: bigJpeg, boxes: JSON.stringify(Array.from({ length: 64 }, () => box)), filename: 'big.jpg' },
  { name: '6000x4000 JPEG, no boxes', image: bigJpeg, filename: 'big.jpg' },
  { name: '10000x10000 PNG, no boxes', image: hugePng, filename: 'huge.png', env: { LUMEN_FACE_MAX_UPLOAD_BYTES: String(256 * MB) } },
];

/** Peak and current resident set of a process, in bytes. */
function memoryOf(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) * 1024;
  return { peak: kb('VmHWM'), now: kb('VmRSS') };
}

async function waitReady(base: string, child: ChildProcess): Promise<void> {
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('server not ready after 60 s');
}

async function runCase(c: Case, image: Buffer): Promise<string[]> {
  const port = await freePort();
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'server.js')], {
    env: { ...process.env, ...testEnv({ LUMEN_FACE_PORT: String(port), ...c.env }) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitReady(base, child);
    // One warm-up request on a small photo, so session arenas and pools exist before the measurement.
    const warm = new FormData();
    warm.append('image', new Blob([new Uint8Array(readFace('groups/t1.jpg'))], { type: 'image/jpeg' }), 't1.jpg');
    await (await fetch(`${base}/v1/faces`, { method: 'POST', body: warm })).arrayBuffer();
    const before = memoryOf(child.pid!);
    const form = new FormData();
    form.append('image', new Blob([new Uint8Array(image)]), c.filename);
    if (c.boxes !== undefined) form.append('boxes', c.boxes);
    const started = performance.now();
    const res = await fetch(`${base}/v1/embed`, { method: 'POST', body: form });
    const body = (await res.json()) as { faces?: unknown[]; message?: string };
    const seconds = (performance.now() - started) / 1000;
    const after = memoryOf(child.pid!);
    const outcome = res.ok ? `${body.faces?.length} embeddings` : `${res.status} ${body.message}`;
    return [
      `| ${c.name} | ${(image.length / MB).toFixed(1)} | ${outcome} | ${(before.peak / MB).toFixed(0)} | ${(after.peak / MB).toFixed(0)} | +${((after.peak - before.peak) / MB).toFixed(0)} | ${seconds.toFixed(1)} |`,
    ];
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => (child.exitCode !== null ? r(null) : child.once('exit', r)));
  }
}

/** `only`: run just the cases whose name contains it. */
export async function embedMemoryBench(only = process.env.EMBED_MEMORY_CASE ?? ''): Promise<string[]> {
  const out = [
    '## Peak RSS of the server for one /v1/embed request (fresh `node dist/server.js` per row, VmHWM from /proc)',
    '',
    '| request | upload MB | answer | peak before (MB) | peak after (MB) | growth (MB) | seconds |',
    '|:--|--:|:--|--:|--:|--:|--:|',
  ];
  const images = new Map<() => Promise<Buffer>, Buffer>();
  for (const c of CASES.filter((k) => k.name.includes(only))) {
    process.stderr.write(`embed-memory: ${c.name}\n`);
    if (!images.has(c.image)) images.set(c.image, await c.image());
    out.push(...(await runCase(c, images.get(c.image)!)));
  }
  return out;
}
