import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { MODELS_DIR, REPO_ROOT, percentile } from '../dev/fixtures.js';
import { bareLimit, bareModels, detectorInputs } from './bare-limit.js';
import { type PhotoSet, smallPhotos, twelveMegapixelPhotos } from './photo-sets.js';
import { freePort, rssMb } from './servers.js';
import { STAGES, type Stage, stageBreakdown } from './stage-breakdown.js';
import { type WorkFloor, workFloor } from './work-floor.js';

/**
 * `npm run bench -- throughput [--seconds N] [--pack NAME] [--only-small|--only-12mp] [--node-args "..."]`: served throughput against the work floor.
 * - for each pack (both shared packs, scrfd_2.5g_mbf then scrfd_500m_mbf, unless --pack names one), starts the real
 *   server as `npm start` does (node dist/server.js) on the pack's fp32 files,
 *   with the defaults plus whatever LUMEN_FACE_* / UV_THREADPOOL_SIZE variables the bench itself was given;
 * - per photo set (the shared ~1 MP photos, then 12 MP upscales of the group photos): one stream of bare model
 *   calls, the work floor on every core (work-floor.ts), a per-stage CPU breakdown (all with the server idle), then N seconds (default 25; 120 for the RSS
 *   plateau run) of 4 concurrent clients on /v1/faces while a separate process probes /healthz every 50 ms.
 */

const PACKS = ['scrfd_2.5g_mbf', 'scrfd_500m_mbf'];
const PRECISION = 'fp32';
const CLIENTS = 4;
const DET_SIZE = 640;
const BARE_SECONDS = 8;
/** The floor and the served load take turns, so a change in the machine's other load hits both alike. */
const ROUNDS = 3;
const BREAKDOWN_PHOTOS = 30;
const TIMING_STAGES = ['decode', 'detect', 'align', 'embed'] as const;

interface Served {
  images: number;
  seconds: number;
  errors: number;
  latencies: number[];
  timings: Record<string, number[]>;
  healthz: number[];
  healthzErrors: number;
  rssMb: number[];
  cpuSeconds: number;
}

interface SetResult {
  set: string;
  photos: number;
  facesPerPhoto: number;
  bare: number;
  floor: WorkFloor;
  served: Served;
  breakdown: Record<Stage, number>;
  breakdownPhotos: number;
}

const log = (message: string) => process.stderr.write(`${message}\n`);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function serverEnv(port: number, model: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME };
  // Tuning variables given to the bench pass through, so a run can compare a setting against the defaults.
  for (const [k, val] of Object.entries(process.env)) if (k.startsWith('LUMEN_FACE_') || k === 'UV_THREADPOOL_SIZE') env[k] = val;
  return {
    ...env,
    LUMEN_FACE_LOCAL_DIR: MODELS_DIR,
    LUMEN_FACE_MODEL_NAME: model,
    LUMEN_FACE_PRECISION: PRECISION,
    LUMEN_FACE_OFFLINE: '1',
    LUMEN_FACE_PORT: String(port),
    LUMEN_FACE_HOST: '127.0.0.1',
  };
}

async function startServer(nodeArgs: string[], model: string): Promise<{ child: ChildProcess; base: string }> {
  const port = await freePort();
  const child = spawn(process.execPath, [...nodeArgs, join(REPO_ROOT, 'dist', 'server.js')], {
    env: serverEnv(port, model),
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 600; i++) {
    if (child.exitCode !== null) throw new Error(`the server exited with code ${child.exitCode}`);
    try {
      if ((await fetch(`${base}/readyz`)).ok) return { child, base };
    } catch {
      /* not listening yet */
    }
    await sleep(100);
  }
  child.kill('SIGTERM');
  throw new Error('the server did not become ready within 60 s');
}

/** CPU seconds (user + system, all threads) the process has used; Linux counts them in 1/100 s ticks. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

async function postFaces(base: string, blob: Blob, name: string) {
  const form = new FormData();
  form.append('image', blob, name);
  const res = await fetch(`${base}/v1/faces`, { method: 'POST', body: form });
  const body = (await res.json()) as { faces?: unknown[] };
  return { ok: res.status === 200, faces: body.faces?.length ?? 0, timing: res.headers.get('server-timing') ?? '' };
}

function startProbe(base: string) {
  const child = spawn(process.execPath, [join(REPO_ROOT, 'dist', 'bench', 'healthz-probe.js'), base], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  const done = new Promise<{ times: number[]; errors: number }>((resolve) => child.on('close', () => resolve(JSON.parse(out || '{"times":[],"errors":-1}'))));
  return {
    stop: () => {
      child.stdin.end();
      return done;
    },
  };
}

async function serve(base: string, pid: number, set: PhotoSet, seconds: number): Promise<Served> {
  const blobs = set.photos.map((p) => new Blob([p.bytes as BlobPart], { type: 'image/jpeg' }));
  const served: Served = { images: 0, seconds: 0, errors: 0, latencies: [], timings: {}, healthz: [], healthzErrors: 0, rssMb: [], cpuSeconds: 0 };
  for (const s of TIMING_STAGES) served.timings[s] = [];
  const probe = startProbe(base);
  const rss = setInterval(() => served.rssMb.push(rssMb(pid)), 500);
  const cpuBefore = cpuSeconds(pid);
  const start = performance.now();
  let next = 0;
  const client = async () => {
    while (performance.now() - start < seconds * 1000) {
      const i = next++ % set.photos.length;
      const sent = performance.now();
      try {
        const r = await postFaces(base, blobs[i], set.photos[i].name);
        if (!r.ok) served.errors++;
        else {
          served.images++;
          served.latencies.push(performance.now() - sent);
          for (const m of r.timing.matchAll(/(\w+);dur=([\d.]+)/g)) served.timings[m[1]]?.push(Number(m[2]));
        }
      } catch {
        served.errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: CLIENTS }, client));
  served.seconds = (performance.now() - start) / 1000;
  served.cpuSeconds = cpuSeconds(pid) - cpuBefore;
  clearInterval(rss);
  const probed = await probe.stop();
  served.healthz = probed.times;
  served.healthzErrors = probed.errors;
  return served;
}

export async function throughputBench(args: string[]): Promise<string[]> {
  const i = args.indexOf('--seconds');
  const seconds = i >= 0 ? Number(args[i + 1]) : 25;
  if (!(seconds > 0)) throw new Error(`--seconds: expected a positive number, received ${String(args[i + 1])}`);
  const p = args.indexOf('--pack');
  const packs = p >= 0 ? [args[p + 1]] : PACKS;
  if (!packs.every((pack) => PACKS.includes(pack))) throw new Error(`--pack: expected one of ${PACKS.join(', ')}, received ${String(args[p + 1])}`);
  log('throughput: preparing photo sets');
  const only = args.includes('--only-12mp') ? ['12 MP'] : args.includes('--only-small') ? ['small'] : ['small', '12 MP'];
  const sets = [smallPhotos(), await twelveMegapixelPhotos()].filter((set) => only.includes(set.name));
  // e.g. --node-args "--cpu-prof --cpu-prof-dir=/tmp/prof" to profile the server's main thread.
  const n = args.indexOf('--node-args');
  const nodeArgs = n >= 0 ? args[n + 1].split(' ').filter(Boolean) : [];
  const out: string[] = [`uptime before the run: ${uptime()}`, ''];
  for (const pack of packs) out.push(...(await packThroughput(pack, sets, seconds, nodeArgs)), '');
  out.push(`uptime after the run: ${uptime()}`);
  return out;
}

const uptime = () =>
  `load average ${os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`;

async function packThroughput(model: string, sets: PhotoSet[], seconds: number, nodeArgs: string[]): Promise<string[]> {
  const pack = join(MODELS_DIR, model, 'onnxrt', PRECISION);
  const detectionPath = join(pack, 'detection.onnx');
  const recognitionPath = join(pack, 'recognition.onnx');
  log(`throughput: ${model}: starting the server`);
  const { child, base } = await startServer(nodeArgs, model);
  const pid = child.pid!;
  const results: SetResult[] = [];
  let info: Record<string, unknown> = {};
  try {
    info = (await (await fetch(`${base}/v1/info`)).json()) as Record<string, unknown>;
    const models = await bareModels(detectionPath, recognitionPath);
    for (const set of sets) {
      log(`throughput: ${model}: ${set.name}: one pass to count faces`);
      const faces: number[] = [];
      for (const p of set.photos) {
        const r = await postFaces(base, new Blob([p.bytes as BlobPart], { type: 'image/jpeg' }), p.name);
        if (!r.ok) throw new Error(`${p.name}: /v1/faces failed`);
        faces.push(r.faces);
      }
      log(`throughput: ${model}: ${set.name}: bare model limit (server idle)`);
      const inputs = await detectorInputs(set, DET_SIZE);
      const bare = await bareLimit(models, inputs, faces, BARE_SECONDS);
      log(`throughput: ${model}: ${set.name}: per-stage CPU (server idle)`);
      const sample = { name: set.name, photos: set.photos.slice(0, BREAKDOWN_PHOTOS) };
      const breakdown = await stageBreakdown(detectionPath, recognitionPath, sample, DET_SIZE);
      const floors: WorkFloor[] = [];
      const serveds: Served[] = [];
      for (let round = 1; round <= ROUNDS; round++) {
        log(`throughput: ${model}: ${set.name}: round ${round}/${ROUNDS}: work floor, one worker per CPU (server idle), ${seconds / ROUNDS} s`);
        floors.push(
          await workFloor(
            detectionPath,
            recognitionPath,
            set,
            faces,
            inputs.map((t) => t.data as Float32Array),
            DET_SIZE,
            seconds / ROUNDS,
          ),
        );
        log(`throughput: ${model}: ${set.name}: round ${round}/${ROUNDS}: ${CLIENTS} clients for ${seconds / ROUNDS} s`);
        serveds.push(await serve(base, pid, set, seconds / ROUNDS));
      }
      const floor = addFloors(floors);
      const served = addServed(serveds);
      results.push({
        set: set.name,
        photos: set.photos.length,
        facesPerPhoto: faces.reduce((a, b) => a + b, 0) / faces.length,
        bare,
        floor,
        served,
        breakdown,
        breakdownPhotos: sample.photos.length,
      });
    }
    await models.detection.release();
    await models.recognition.release();
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => child.once('close', r));
  }
  return report(model, results, info, seconds);
}

function addFloors(rounds: WorkFloor[]): WorkFloor {
  const photos = rounds.reduce((a, r) => a + r.photos, 0);
  const weighted = (k: 'decodeMs' | 'detectMs' | 'recognizeMsPerFace' | 'cpuMsPerImage') => rounds.reduce((a, r) => a + r[k] * r.photos, 0) / photos;
  const seconds = rounds.reduce((a, r) => a + r.seconds, 0);
  return {
    imagesPerSecond: photos / seconds,
    workers: rounds[0].workers,
    photos,
    seconds,
    decodeMs: weighted('decodeMs'),
    detectMs: weighted('detectMs'),
    recognizeMsPerFace: weighted('recognizeMsPerFace'),
    cpuMsPerImage: weighted('cpuMsPerImage'),
  };
}

function addServed(rounds: Served[]): Served {
  const timings: Record<string, number[]> = {};
  for (const r of rounds) {
    for (const [k, v] of Object.entries(r.timings)) {
      timings[k] ??= [];
      timings[k].push(...v);
    }
  }
  const sum = (k: 'images' | 'seconds' | 'errors' | 'healthzErrors' | 'cpuSeconds') => rounds.reduce((a, r) => a + r[k], 0);
  return {
    images: sum('images'),
    seconds: sum('seconds'),
    errors: sum('errors'),
    healthzErrors: sum('healthzErrors'),
    cpuSeconds: sum('cpuSeconds'),
    latencies: rounds.flatMap((r) => r.latencies),
    healthz: rounds.flatMap((r) => r.healthz),
    rssMb: rounds.flatMap((r) => r.rssMb),
    timings,
  };
}

const f1 = (x: number) => x.toFixed(1);

function report(model: string, results: SetResult[], info: Record<string, unknown>, seconds: number): string[] {
  const engine = (info.engine ?? {}) as Record<string, unknown>;
  const out = [
    `## Throughput: ${model} ${PRECISION}, ${CLIENTS} concurrent clients on /v1/faces for ${seconds} s per set, /healthz probed every 50 ms from a separate process`,
    '',
    `node ${process.versions.node}, ${os.availableParallelism()} CPUs, server: workers ${String(engine.workers)}, intra-op threads ${String(engine.intraOpThreads)}` +
      `${Object.keys(process.env)
        .filter((k) => k.startsWith('LUMEN_FACE_') || k === 'UV_THREADPOOL_SIZE')
        .map((k) => `, ${k}=${process.env[k]}`)
        .join('')}; load average ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')}`,
    '',
    '| photos | faces/photo | served img/s | work floor img/s | **ratio to floor** | one stream of models img/s | latency p50 / p99 ms | /healthz p50 / p99 / max ms | errors | RSS start / max / end MB |',
    '|:--|--:|--:|--:|--:|--:|--:|--:|--:|--:|',
  ];
  for (const r of results) {
    const s = r.served;
    const rate = s.images / s.seconds;
    const h = [...s.healthz].sort((a, b) => a - b);
    const rss = s.rssMb;
    out.push(
      `| ${r.set} (${r.photos}) | ${r.facesPerPhoto.toFixed(2)} | ${f1(rate)} | ${f1(r.floor.imagesPerSecond)} | **${(rate / r.floor.imagesPerSecond).toFixed(2)}** | ${f1(r.bare)} | ` +
        `${f1(percentile(s.latencies, 50))} / ${f1(percentile(s.latencies, 99))} | ${f1(percentile(h, 50))} / ${f1(percentile(h, 99))} / ${f1(h[h.length - 1] ?? NaN)} (${h.length}) | ` +
        `${s.errors + Math.max(s.healthzErrors, 0)} | ${f1(rss[0])} / ${f1(Math.max(...rss))} / ${f1(rss[rss.length - 1])} |`,
    );
  }
  out.push('');
  out.push('The work floor: per photo one full-size sharp decode, one 640x640 detection run and one batch-1 recognition run per face, on one');
  out.push('worker thread per CPU (single-threaded sessions, sharp.concurrency(1)), all at once with the server idle. Its parts, per core:');
  out.push('');
  out.push('| photos | workers | decode ms/photo | detection ms/photo | recognition ms/face |');
  out.push('|:--|--:|--:|--:|--:|');
  for (const r of results)
    out.push(`| ${r.set} | ${r.floor.workers} | ${f1(r.floor.decodeMs)} | ${f1(r.floor.detectMs)} | ${f1(r.floor.recognizeMsPerFace)} |`);
  out.push('');
  out.push('Server-Timing medians while saturated (wall ms per request, includes waiting for a worker):');
  out.push('');
  out.push(`| photos | ${TIMING_STAGES.join(' | ')} |`);
  out.push(`|:--|${TIMING_STAGES.map(() => '--:').join('|')}|`);
  for (const r of results) out.push(`| ${r.set} | ${TIMING_STAGES.map((s) => f1(percentile(r.served.timings[s], 50))).join(' | ')} |`);
  out.push('');
  out.push('CPU ms per image by stage (process CPU time, stages run one after another on the idle machine; model runs on 1 intra-op thread):');
  out.push('');
  out.push(`| photos | ${STAGES.join(' | ')} | total |`);
  out.push(`|:--|${STAGES.map(() => '--:').join('|')}|--:|`);
  for (const r of results) {
    const total = STAGES.reduce((a, s) => a + r.breakdown[s], 0);
    out.push(`| ${r.set} (first ${r.breakdownPhotos}) | ${STAGES.map((s) => f1(r.breakdown[s])).join(' | ')} | ${f1(total)} |`);
  }
  out.push('');
  out.push('CPU efficiency, which a busy shared machine distorts far less than img/s: the CPU a photo costs the models alone (detect model +');
  out.push('embed model above), and the work floor (its process CPU per photo), each divided by the CPU the server used per photo served.');
  out.push('On an idle machine whose cores are saturated, the second approximates the ratio to the floor.');
  out.push('');
  for (const r of results) {
    const served = (r.served.cpuSeconds * 1000) / r.served.images;
    const model = r.breakdown['detect model'] + r.breakdown['embed model'];
    out.push(
      `- ${r.set}: server ${f1(served)} CPU ms per image served; models alone ${f1(model)} ms (**${(model / served).toFixed(2)}**); ` +
        `the work floor ${f1(r.floor.cpuMsPerImage)} ms (**${(r.floor.cpuMsPerImage / served).toFixed(2)}**)`,
    );
  }
  out.push('');
  out.push('Server RSS (MB) by tenth of each loaded run, maximum of the samples in that tenth (a plateau shows as flat late tenths):');
  out.push('');
  for (const r of results) {
    const rss = r.served.rssMb;
    const tenths = Array.from({ length: 10 }, (_, k) => rss.slice(Math.floor((k * rss.length) / 10), Math.floor(((k + 1) * rss.length) / 10)));
    out.push(`- ${r.set}: ${tenths.map((t) => (t.length ? Math.max(...t).toFixed(0) : '-')).join(' ')}`);
  }
  return out;
}
