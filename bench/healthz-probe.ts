import http from 'node:http';

/**
 * Probes GET /healthz every 50 ms from its own process, so the prober never waits for the bench's
 * event loop. Runs until stdin closes or SIGTERM, then prints {times, errors} as JSON on stdout.
 * Usage: node dist/bench/healthz-probe.js http://127.0.0.1:PORT
 */

const url = new URL('/healthz', process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const GAP_MS = 50;
const times: number[] = [];
let errors = 0;
let running = true;

function probe(): Promise<number> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = http.get(url, { agent }, (res) => {
      res.resume();
      res.on('end', () => (res.statusCode === 200 ? resolve(performance.now() - start) : reject(new Error(`status ${res.statusCode}`))));
    });
    req.on('error', reject);
  });
}

function stop() {
  running = false;
}
process.once('SIGTERM', stop);
process.stdin.on('end', stop).on('close', stop).resume();

let next = performance.now();
while (running) {
  try {
    times.push(await probe());
  } catch {
    errors++;
  }
  next += GAP_MS;
  await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
}
agent.destroy();
process.stdout.write(JSON.stringify({ times, errors }));
