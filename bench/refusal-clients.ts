import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';

/**
 * Four real HTTP clients, each writing its whole body before it reads, as photo-app backends do:
 * Node's global fetch (undici), Node's http.request, curl (with `Expect:` off, so it writes at once)
 * and Python `requests` (Debian's python3-requests, under /usr/bin/python3). Each returns what the
 * client itself reports: the status and the JSON body's code, or the network error it threw.
 * Shared by the early-refusal tests and `npm run bench -- hostile`.
 */

export type ClientName = 'fetch' | 'http.request' | 'curl' | 'python-requests';
export const CLIENTS: readonly ClientName[] = ['fetch', 'http.request', 'curl', 'python-requests'];

export interface Try {
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The body the client sends (written whole, before the answer is read). */
  body: Buffer;
}

/** What the client saw: a status and the JSON error code, or the network error it threw. */
export interface Seen {
  status?: number;
  code?: string;
  error?: string;
  ms: number;
}

function parseCode(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { code?: string }).code ?? '(no code)';
  } catch {
    return `(not JSON: ${JSON.stringify(text.slice(0, 60))})`;
  }
}

async function viaFetch(one: Try): Promise<Seen> {
  const started = performance.now();
  try {
    const res = await fetch(one.url, { method: one.method, headers: one.headers, body: new Uint8Array(one.body) });
    const text = await res.text();
    return { status: res.status, code: parseCode(text), ms: performance.now() - started };
  } catch (err) {
    const cause = (err as { cause?: { code?: string; message?: string } }).cause;
    return { error: `${(err as Error).message} (${cause?.code ?? cause?.message ?? 'no cause'})`, ms: performance.now() - started };
  }
}

function viaHttpRequest(one: Try): Promise<Seen> {
  const started = performance.now();
  return new Promise((resolve) => {
    let settled = false;
    const done = (seen: Omit<Seen, 'ms'>) => {
      if (settled) return;
      settled = true;
      resolve({ ...seen, ms: performance.now() - started });
    };
    const req = http.request(one.url, { method: one.method, headers: { ...one.headers, 'content-length': String(one.body.length) }, agent: false });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => done({ status: res.statusCode, code: parseCode(text) }));
      res.on('error', (err: NodeJS.ErrnoException) => done({ error: `response: ${err.code ?? err.message}` }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ error: err.code ?? err.message }));
    req.end(one.body);
  });
}

function run(command: string, args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin?.end(input);
  });
}

async function viaCurl(one: Try, bodyFile: string): Promise<Seen> {
  const started = performance.now();
  const headers = Object.entries(one.headers).flatMap(([k, v]) => ['-H', `${k}: ${v}`]);
  // `Expect:` off: curl would otherwise wait for 100 Continue on bodies over 1 MB instead of writing.
  const { code, stdout, stderr } = await run('curl', [
    '-sS',
    '-X',
    one.method,
    '-H',
    'Expect:',
    ...headers,
    '--data-binary',
    `@${bodyFile}`,
    '-w',
    '\n%{http_code}',
    one.url,
  ]);
  const ms = performance.now() - started;
  if (code !== 0) return { error: `curl exit ${code}: ${stderr.trim()}`, ms };
  const cut = stdout.lastIndexOf('\n');
  return { status: Number(stdout.slice(cut + 1)), code: parseCode(stdout.slice(0, cut)), ms };
}

/** One Python process per batch: it sends every try in turn and prints one JSON line per answer. */
const PYTHON = `
import json, sys, time, requests
tries = json.load(sys.stdin)
for t in tries:
    body = open(t["file"], "rb").read()
    started = time.monotonic()
    try:
        r = requests.request(t["method"], t["url"], headers=t["headers"], data=body, timeout=60)
        out = {"status": r.status_code, "text": r.text}
    except Exception as e:
        out = {"error": type(e).__name__ + ": " + str(e)[:200]}
    out["ms"] = (time.monotonic() - started) * 1000
    print(json.dumps(out), flush=True)
`;

async function viaPython(tries: Try[], bodyFile: (t: Try) => string): Promise<Seen[]> {
  const input = JSON.stringify(tries.map((t) => ({ method: t.method, url: t.url, headers: t.headers, file: bodyFile(t) })));
  const { code, stdout, stderr } = await run('/usr/bin/python3', ['-c', PYTHON], input);
  const lines = stdout.trim().split('\n').filter(Boolean);
  if (code !== 0 || lines.length !== tries.length) throw new Error(`python3 requests failed (exit ${code}): ${stderr.slice(-500)}`);
  return lines.map((line) => {
    const out = JSON.parse(line) as { status?: number; text?: string; error?: string; ms: number };
    return out.error !== undefined ? { error: out.error, ms: out.ms } : { status: out.status, code: parseCode(out.text ?? ''), ms: out.ms };
  });
}

/**
 * Send every try through `client`, `parallel` at a time (Python sends its tries one after another).
 * Bodies are written to files under `dir` for curl and Python.
 */
export async function sendAll(client: ClientName, tries: Try[], dir: string, parallel = 4): Promise<Seen[]> {
  const files = new Map<Buffer, string>();
  const fileOf = (t: Try) => {
    let file = files.get(t.body);
    if (!file) {
      file = join(dir, `body-${files.size}.bin`);
      writeFileSync(file, t.body);
      files.set(t.body, file);
    }
    return file;
  };
  if (client === 'python-requests') return viaPython(tries, fileOf);
  const one = (t: Try) => (client === 'fetch' ? viaFetch(t) : client === 'http.request' ? viaHttpRequest(t) : viaCurl(t, fileOf(t)));
  const out: Seen[] = new Array(tries.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < tries.length) {
        const i = next++;
        out[i] = await one(tries[i]);
      }
    }),
  );
  return out;
}

/** A multipart/form-data body of about `bytes` bytes with one "image" file part. */
export function multipartBody(bytes: number): { body: Buffer; contentType: string } {
  const boundary = '----lumenfaceboundary7MA4YWxkTrZu0gW';
  const head = Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="photo.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`);
  const tail = Buffer.from(`\r\n--${boundary}--\r\n`);
  const fill = Buffer.alloc(Math.max(0, bytes - head.length - tail.length), 0x5a);
  return { body: Buffer.concat([head, fill, tail]), contentType: `multipart/form-data; boundary=${boundary}` };
}
