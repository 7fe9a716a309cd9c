/**
 * Quality and latency figures for every local pack and precision, on the real photos in
 * shared/faces. Not a tap test: `npm run bench` (all sections) or
 * `npm run bench -- quality` / `npm run bench -- latency` / `npm run bench -- saturation` / `npm run bench -- batch`.
 *
 * quality: largest face per identity photo through faces(): rank-1 leave-one-out, best-threshold
 *          pair accuracy, same/different-person cosine distributions; group and no-face counts.
 * latency: one faces() call on a single-face photo and on a 12 MP group photo (groups/t1.jpg
 *          upscaled to 4000x3000), median and p90 after warm-up, split by pipeline stage; one
 *          embed(image) call; RSS after the runs.
 * saturation: /healthz latency over a real socket, idle and while 8 /v1/faces requests run at once.
 * hostile: slot recovery under 32 silent uploads, shutdown with a stalled upload, the faces cap (bench/hostile.ts).
 * batch: images/s for 32 photos in one /v1/faces/batch request against 32 single requests, 4 at a time.
 * embed-memory: peak RSS of a fresh server process for one hostile /v1/embed request (64 whole-image
 *          boxes on a 6000x4000 JPEG, a 100 MP PNG); not part of `all`.
 * decode-share: 12 MP photos, the decode ladder's decodes and their time against one full decode; not part of `all`.
 * quality-dist: face quality (pose, sharpness, size) on the shared photos (see quality-dist.ts).
 * immich: images/s through immich's /predict against /v1/faces on the same photos, one client (see immich.ts);
 *         not part of `all`.
 * grpc: images/s through gRPC's face_detect_and_embed against /v1/faces on the same photos (see grpc.ts); not part of `all`.
 * idle: RSS loaded, after an idle unload (LUMEN_FACE_MODEL_TTL) and after the reload; the reload's latency (see idle.ts);
 *       not part of `all`.
 * throughput: the served-versus-bare-model benchmark (see throughput.ts); not part of `all`.
 *             `npm run bench -- throughput [--seconds 120] [--pack scrfd_2.5g_mbf|scrfd_500m_mbf]` (both packs unless --pack).
 */
import os from 'node:os';
import sharp from 'sharp';
import type { FaceBackend } from '../src/index.js';
import { backendFor, identityPhotos, loadLabels, mean, percentile, readFace, requirePack } from '../dev/fixtures.js';
import { measureThreshold } from '../dev/verify-threshold.js';
import { PACK_FACTS } from '../src/models/pack-facts.js';
import { hostileBench } from './hostile.js';
import { grpcBench } from './grpc.js';
import { immichBench } from './immich.js';
import { idleBench } from './idle.js';
import { batchBench } from './batch.js';
import { decodeShareBench } from './decode-share.js';
import { embedMemoryBench } from './embed-memory.js';
import { qualityDistBench } from './quality-dist.js';
import { saturationBench } from './saturation.js';
import { throughputBench } from './throughput.js';

const PACKS = ['scrfd_2.5g_mbf', 'scrfd_500m_mbf'] as const;
const PRECISIONS = ['fp32', 'fp16'] as const;
const SINGLE_FACE = 'identities/Angelina_Jolie/07.jpg';
const GROUP = 'groups/t1.jpg';
const WARMUP = 3;
const RUNS = 10;
const SECTIONS = [
  'quality',
  'latency',
  'saturation',
  'hostile',
  'batch',
  'embed-memory',
  'decode-share',
  'quality-dist',
  'immich',
  'grpc',
  'idle',
  'all',
] as const;
type Section = (typeof SECTIONS)[number];
type Stage = 'decode' | 'detect' | 'align' | 'embed';
const STAGES: Stage[] = ['decode', 'detect', 'align', 'embed'];

interface QualityRow {
  config: string;
  rank1: string;
  accuracy: string;
  threshold: string;
  same: string;
  different: string;
  groups: Map<string, number>;
  noface: number[];
  seconds: number;
}

interface LatencyRow {
  config: string;
  what: string;
  faces: number;
  median: number;
  p90: number;
  stages: Record<Stage, number>;
}

interface MemoryRow {
  config: string;
  rssMb: number;
}

const f3 = (x: number) => x.toFixed(3);
const ms = (x: number) => x.toFixed(1);
const log = (message: string) => process.stderr.write(`${message}\n`);

function table(headers: string[], rows: string[][], right: boolean[] = headers.map((_, i) => i > 0)): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => `| ${cells.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join(' | ')} |`;
  const rule = `|${widths.map((w, i) => (right[i] ? `${'-'.repeat(w + 1)}:` : `:${'-'.repeat(w + 1)}`)).join('|')}|`;
  return [line(headers), rule, ...rows.map(line)].join('\n');
}

async function quality(config: string, backend: FaceBackend): Promise<QualityRow> {
  const started = performance.now();
  const labels = loadLabels();
  const { missing, rank1: r1, pairs, accuracy, threshold } = await measureThreshold(backend);
  if (missing.length > 0) log(`  ${config}: no face in ${missing.join(', ')} (left out of the figures)`);
  const groups = new Map<string, number>();
  for (const path of Object.keys(labels.groups)) groups.set(path, (await backend.detect(readFace(path))).faces.length);
  const noface: number[] = [];
  for (const path of labels.noface) noface.push((await backend.detect(readFace(path))).faces.length);
  return {
    config,
    rank1: `${r1.correct}/${r1.total}${missing.length ? ` (${missing.length} no face)` : ''}`,
    accuracy: `${(accuracy * 100).toFixed(2)} %`,
    threshold: f3(threshold),
    same: `${f3(Math.min(...pairs.same))} / ${f3(percentile(pairs.same, 5))} / ${f3(mean(pairs.same))} (n=${pairs.same.length})`,
    different: `${f3(mean(pairs.different))} / ${f3(percentile(pairs.different, 95))} / ${f3(Math.max(...pairs.different))} (n=${pairs.different.length})`,
    groups,
    noface,
    seconds: (performance.now() - started) / 1000,
  };
}

async function measure(config: string, what: string, run: () => Promise<{ faces: unknown[]; timings: Record<Stage, number> }>): Promise<LatencyRow> {
  for (let i = 0; i < WARMUP; i++) await run();
  const totals: number[] = [];
  const stages: Record<Stage, number[]> = { decode: [], detect: [], align: [], embed: [] };
  let faces = 0;
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    const result = await run();
    totals.push(performance.now() - started);
    for (const s of STAGES) stages[s].push(result.timings[s]);
    faces = result.faces.length;
  }
  return {
    config,
    what,
    faces,
    median: percentile(totals, 50),
    p90: percentile(totals, 90),
    stages: Object.fromEntries(STAGES.map((s) => [s, percentile(stages[s], 50)])) as Record<Stage, number>,
  };
}

async function latency(config: string, backend: FaceBackend, single: Buffer, big: Buffer): Promise<LatencyRow[]> {
  return [
    await measure(config, 'faces(), single face', () => backend.faces(single)),
    await measure(config, 'faces(), 12 MP group', () => backend.faces(big)),
    await measure(config, 'embed(image), no boxes', () => backend.embedDetailed(single)),
  ];
}

/** Sections that run on their own only, not as part of `all`. */
const STANDALONE: Partial<Record<Section, () => Promise<string[]>>> = {
  'decode-share': decodeShareBench,
  idle: idleBench,
  immich: immichBench,
  grpc: grpcBench,
  'embed-memory': embedMemoryBench,
};

async function main() {
  if (process.argv[2] === 'throughput') {
    process.stdout.write(`${(await throughputBench(process.argv.slice(3))).join('\n')}\n`);
    return;
  }
  const arg = (process.argv[2] ?? 'all') as Section;
  if (!SECTIONS.includes(arg) || process.argv.length > 3) {
    process.stderr.write(`usage: node dist/bench/run.js [${SECTIONS.join('|')}|throughput [--seconds N] [--pack NAME]]\n`);
    process.exit(2);
  }
  const doQuality = arg === 'quality' || arg === 'all';
  const doLatency = arg === 'latency' || arg === 'all';
  const doSaturation = arg === 'saturation' || arg === 'all';
  const doBatch = arg === 'batch' || arg === 'all';
  const alone = STANDALONE[arg];
  if (alone) {
    process.stdout.write(`${(await alone()).join('\n')}\n`);
    return;
  }
  const doQualityDist = arg === 'quality-dist' || arg === 'all';
  for (const pack of PACKS) for (const precision of PRECISIONS) requirePack(pack, precision);

  const single = readFace(SINGLE_FACE);
  const singleMeta = await sharp(single).metadata();
  const groupMeta = await sharp(readFace(GROUP)).metadata();
  const big = await sharp(readFace(GROUP))
    .rotate()
    .resize(4000, 3000, { fit: 'contain', background: { r: 128, g: 128, b: 128 } })
    .jpeg({ quality: 92 })
    .toBuffer();
  const loadBefore = os.loadavg();

  const qualityRows: QualityRow[] = [];
  const latencyRows: LatencyRow[] = [];
  const memoryRows: MemoryRow[] = [];
  let engine = '';
  for (const pack of doQuality || doLatency ? PACKS : []) {
    for (const precision of PRECISIONS) {
      const config = `${pack} ${precision}`;
      const backend = await backendFor(pack, precision);
      try {
        const info = backend.info();
        engine ||= `workers ${String(info.engine.workers)}, intra-op threads ${String(info.engine.intraOpThreads)}, providers ${info.providers.join(',')}`;
        if (doQuality) {
          log(`quality: ${config}`);
          qualityRows.push(await quality(config, backend));
        }
        if (doLatency) {
          log(`latency: ${config}`);
          latencyRows.push(...(await latency(config, backend, single, big)));
          memoryRows.push({ config, rssMb: process.memoryUsage().rss / 1024 / 1024 });
        }
      } finally {
        await backend.close();
      }
    }
  }
  const loadAfter = os.loadavg();

  const out: string[] = [];
  out.push(`# lumen-face bench (${arg})`);
  out.push('');
  out.push(
    `node ${process.versions.node}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${engine}; ` +
      `load average ${loadBefore.map((l) => l.toFixed(2)).join(' ')} before, ${loadAfter.map((l) => l.toFixed(2)).join(' ')} after`,
  );
  if (doQuality) {
    const labels = loadLabels();
    out.push('');
    out.push(`## Quality: largest face of each of ${identityPhotos(labels).length} identity photos through faces()`);
    out.push('');
    out.push(
      table(
        ['pack', 'rank-1 LOO', 'best-threshold acc', 'at t', 'same cos min / p5 / mean', 'different cos mean / p95 / max', 'time s'],
        qualityRows.map((r) => [r.config, r.rank1, r.accuracy, r.threshold, r.same, r.different, r.seconds.toFixed(1)]),
        [false, true, true, true, true, true, true],
      ),
    );
    out.push('');
    out.push(
      `Default thresholds (src/models/pack-facts.ts, from the fp32 rows): ${Object.entries(PACK_FACTS)
        .map(([name, f]) => `${name} ${f.verifyThreshold}`)
        .join(', ')}.`,
    );
    out.push('');
    out.push('Faces found by detect() (default options):');
    out.push('');
    const groupPaths = Object.keys(labels.groups);
    out.push(
      table(
        ['photo', 'expected', ...qualityRows.map((r) => r.config)],
        [
          ...groupPaths.map((p) => [
            p,
            `${labels.groups[p].faces_min}..${labels.groups[p].faces_max}`,
            ...qualityRows.map((r) => {
              const n = r.groups.get(p) ?? NaN;
              const ok = n >= labels.groups[p].faces_min && n <= labels.groups[p].faces_max;
              return `${n}${ok ? '' : ' !'}`;
            }),
          ]),
          [`${labels.noface.length} no-face photos`, '0 each', ...qualityRows.map((r) => r.noface.join(' '))],
        ],
        [false, true, ...qualityRows.map(() => true)],
      ),
    );
  }
  if (doLatency) {
    out.push('');
    out.push(`## Latency: ms per call, median of ${RUNS} after ${WARMUP} warm-up (p90 for the total); stages are medians of the pipeline's timings`);
    out.push('');
    out.push(
      `single face: ${SINGLE_FACE} (${singleMeta.width}x${singleMeta.height}); 12 MP group: ${GROUP} (${groupMeta.width}x${groupMeta.height}) ` +
        `upscaled into 4000x3000 (JPEG ${(big.length / 1024 / 1024).toFixed(1)} MB)`,
    );
    out.push('');
    out.push(
      table(
        ['pack', 'call', 'faces', 'median', 'p90', 'decode', 'detect', 'align', 'embed'],
        latencyRows.map((r) => [r.config, r.what, String(r.faces), ms(r.median), ms(r.p90), ...STAGES.map((s) => ms(r.stages[s]))]),
        [false, false, true, true, true, true, true, true, true],
      ),
    );
    out.push('');
    out.push(
      'decode includes the letterbox resize for detection and the full decode for alignment; embed(image) runs the detector on the whole image to align it, counted under detect.',
    );
    out.push('');
    out.push(
      "RSS of this one process after each pack's latency runs; packs run one after another (each backend closed before the next), so later rows include what earlier ones left behind.",
    );
    out.push('');
    out.push(
      table(
        ['pack', 'rss after its runs (MB)'],
        memoryRows.map((r) => [r.config, r.rssMb.toFixed(0)]),
        [false, true],
      ),
    );
  }
  if (doSaturation) {
    log('saturation: /healthz under load');
    out.push('');
    out.push(...(await saturationBench()));
  }
  if (arg === 'hostile' || arg === 'all') {
    log('hostile: slot recovery, shutdown, faces cap');
    out.push('');
    out.push(...(await hostileBench()));
  }
  if (doBatch) {
    log('batch: one request of 32 photos against 32 single requests');
    out.push('');
    out.push(...(await batchBench()));
  }
  if (doQualityDist) {
    log('quality-dist: face quality on the shared photos');
    out.push('');
    out.push(...(await qualityDistBench()));
  }
  process.stdout.write(`${out.join('\n')}\n`);
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
