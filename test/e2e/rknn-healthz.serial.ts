import { execFile } from 'node:child_process';
import http from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import sharp from 'sharp';
import t from 'tap';
import { buildFakeRknn, writeFakeRknnPack } from '../fake-rknn/build.js';
import { percentile } from '../helpers/fixtures.js';
import { startChild } from '../helpers/server-child.js';

/**
 * RKNN photos run in the photo workers, as ONNX ones do: while RKNN requests keep every worker busy
 * (decodes, warps, float16 conversion, model runs on the fake NPU), the main thread still answers
 * /healthz within 15 ms at the 99th percentile. The probe runs in a process of its own, so the load
 * generator's event loop never delays a measurement.
 *
 * The machine is shared, and other processes only ever add latency, in bursts: the probe measures up
 * to ROUNDS windows under the same load and the best window's p99 must hold. A main thread that does
 * photo work is slow in every window (with RKNN on the main thread, every window's p99 was 23 to 72 ms).
 * It is a `.serial` file: `npm test` runs it alone, after the parallel suite, so no other test is the load.
 */

const ROUNDS = 3;
const PROBES = 200;
const GAP_MS = 5;
const P99_BOUND_MS = 15;
const CONCURRENT = 12;

const probeScript = fileURLToPath(new URL('./fixtures/healthz-probe.js', import.meta.url));

/** A 4000 x 3000 photo: real decode and warp work for every request. */
const photo = () =>
  sharp({ create: { width: 4000, height: 3000, channels: 3, background: { r: 90, g: 120, b: 150 } } })
    .composite([{ input: Buffer.from('<svg width="4000" height="3000"><circle cx="2000" cy="1500" r="800" fill="#e0b090"/></svg>') }])
    .jpeg({ quality: 90 })
    .toBuffer();

function multipart(image: Buffer): { body: Buffer; type: string } {
  const b = 'healthzboundary';
  const body = Buffer.concat([
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="image"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    image,
    Buffer.from(`\r\n--${b}--\r\n`),
  ]);
  return { body, type: `multipart/form-data; boundary=${b}` };
}

function post(port: number, body: Buffer, type: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      { port, host: '127.0.0.1', method: 'POST', path: '/v1/faces', headers: { 'content-type': type, 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

t.test(`/healthz answers within ${P99_BOUND_MS} ms p99 while RKNN requests saturate the service`, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lumen-rknn-healthz-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFakeRknnPack(dir, { model: 'fake', precision: 'fp16', detection: { faces: 3, extra: { delayMs: 15 } }, recognition: { extra: { delayMs: 5 } } });
  const server = await startChild({
    LUMEN_FACE_RUNTIME: 'rknn',
    LUMEN_FACE_LOCAL_DIR: dir,
    LUMEN_FACE_MODEL_NAME: 'fake',
    LUMEN_FACE_PRECISION: 'fp16',
    LUMEN_FACE_RKNN_LIBRARY: buildFakeRknn(),
    LUMEN_FACE_EXTRA: JSON.stringify({ rknn_contexts: 2 }),
    LUMEN_FACE_WORKERS: '2',
  });
  t.teardown(() => server.stop());
  const { body, type } = multipart(await photo());
  t.equal(await post(server.port, body, type), 200, 'an RKNN request is served');

  // Load: CONCURRENT requests in flight at all times, until the probe is done.
  let probing = true;
  const statuses: number[] = [];
  const loaders = Array.from({ length: CONCURRENT }, async () => {
    while (probing) statuses.push(await post(server.port, body, type));
  });
  const rounds: { p99: number; median: number; max: number; served: number }[] = [];
  try {
    while (rounds.length < ROUNDS && !rounds.some((r) => r.p99 <= P99_BOUND_MS)) {
      const servedBefore = statuses.filter((s) => s === 200).length;
      const { stdout } = await promisify(execFile)(process.execPath, [probeScript, String(server.port), String(PROBES), String(GAP_MS)]);
      const latencies = JSON.parse(stdout) as number[];
      t.equal(latencies.length, PROBES, `round ${rounds.length + 1}: every probe was answered`);
      const served = statuses.filter((s) => s === 200).length - servedBefore;
      rounds.push({ p99: percentile(latencies, 99), median: percentile(latencies, 50), max: Math.max(...latencies), served });
    }
  } finally {
    probing = false;
    await Promise.all(loaders);
  }

  t.ok(
    rounds.every((r) => r.served > 0),
    `RKNN requests were served during every round (${rounds.map((r) => r.served).join(', ')} answered 200)`,
  );
  t.same(
    [...new Set(statuses)].filter((s) => s !== 200 && s !== 503),
    [],
    'each load request was answered 200, or 503 when every slot was taken',
  );
  const shown = rounds.map((r) => `p99 ${r.p99.toFixed(1)} ms (median ${r.median.toFixed(1)}, max ${r.max.toFixed(1)})`).join('; ');
  t.ok(Math.min(...rounds.map((r) => r.p99)) <= P99_BOUND_MS, `/healthz p99 is at most ${P99_BOUND_MS} ms: ${shown}`);
});
