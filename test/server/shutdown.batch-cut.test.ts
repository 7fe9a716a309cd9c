import http from 'node:http';
import sharp from 'sharp';
import t from 'tap';
import { readFace } from '../helpers/fixtures.js';
import { startChild } from '../helpers/server-child.js';

/**
 * A SIGTERM that cuts a batch at work logs one line for what it cut (the route, photos done and not), at
 * warn level: no error line, no stack, nothing per photo. The real server in its own process, several runs.
 */

const RUNS = 3;
const PHOTOS = 24;

function multipart(photo: Buffer): { body: Buffer; type: string } {
  const b = 'shutdowncutboundary';
  const parts: Buffer[] = [];
  for (let i = 0; i < PHOTOS; i++) {
    parts.push(
      Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="image"; filename="p${i}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
      photo,
      Buffer.from('\r\n'),
    );
  }
  parts.push(Buffer.from(`--${b}--\r\n`));
  return { body: Buffer.concat(parts), type: `multipart/form-data; boundary=${b}` };
}

/** Sends the batch; resolves `sent` once the whole body is written, `answered` with how it ended. */
function post(port: number, body: Buffer, type: string) {
  let sent!: () => void;
  const written = new Promise<void>((resolve) => (sent = resolve));
  const answered = new Promise<string>((resolve) => {
    const req = http.request(
      { port, host: '127.0.0.1', method: 'POST', path: '/v1/faces/batch', headers: { 'content-type': type, 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(`status ${res.statusCode}`));
        res.on('error', () => resolve(`status ${res.statusCode}, then closed`));
      },
    );
    req.on('error', (err) => resolve(`closed: ${(err as NodeJS.ErrnoException).code}`));
    req.end(body, sent);
  });
  return { written, answered };
}

interface Line {
  level: number;
  msg: string;
  err?: { stack?: string };
  requests?: number;
  photosDone?: number;
  photosSkipped?: number;
  routes?: Record<string, number>;
}

t.test(`SIGTERM during a ${PHOTOS}-photo 12 MP batch logs one warn line for what it cut, ${RUNS} times`, async (t) => {
  // 4000 x 3000: 12 MP, so the batch is still at work when the shutdown's wait (1 s) is over.
  const photo = await sharp(readFace('groups/couple.jpg')).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
  const { body, type } = multipart(photo);
  for (let run = 1; run <= RUNS; run++) {
    const server = await startChild({ LUMEN_FACE_SHUTDOWN_TIMEOUT: '1', LUMEN_FACE_LOG_LEVEL: 'info', LUMEN_FACE_MAX_UPLOAD_BYTES: String(body.length) });
    t.teardown(() => server.stop());
    const { written, answered } = post(server.port, body, type);
    await written;
    await new Promise((r) => setTimeout(r, 300));
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    await answered;
    t.same(exit, { code: 0, signal: null }, `run ${run}: exit code 0`);
    const lines = server
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Line);
    t.same(
      lines.filter((l) => l.level >= 50).map((l) => l.msg),
      [],
      `run ${run}: nothing at error level`,
    );
    t.same(
      lines.filter((l) => l.err?.stack !== undefined).map((l) => l.msg),
      [],
      `run ${run}: no stack`,
    );
    const cut = lines.filter((l) => l.requests !== undefined);
    t.equal(cut.length, 1, `run ${run}: one line says what was cut`);
    t.equal(cut[0]?.level, 40, `run ${run}: at warn level`);
    t.same(cut[0]?.routes, { '/v1/faces/batch': 1 }, `run ${run}: the batch's route`);
    t.equal((cut[0]?.photosDone ?? 0) + (cut[0]?.photosSkipped ?? 0), PHOTOS, `run ${run}: its photos done and not done`);
    t.ok((cut[0]?.photosSkipped ?? 0) > 0, `run ${run}: some photos were cut`);
    t.same(
      lines.filter((l) => /batch image failed|request failed|went away/.test(l.msg)).map((l) => l.msg),
      [],
      `run ${run}: no line per photo or per request besides it`,
    );
  }
});
