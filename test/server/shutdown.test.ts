import { readdirSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import sharp from 'sharp';
import t from 'tap';
import { FACES_DIR } from '../helpers/fixtures.js';
import { startChild } from '../helpers/server-child.js';

/**
 * SIGTERM while a model is running: the process ends with the documented exit code 0, never an abort
 * ("terminate called after throwing an instance of 'Napi::Error'", exit 134), whatever is in flight.
 */

const RUNS = 3;

async function bigPhoto(): Promise<Buffer> {
  const dir = join(FACES_DIR, 'identities');
  const first = readdirSync(dir).sort()[0];
  const photo = join(dir, first, readdirSync(join(dir, first)).sort()[0]);
  // 4000 x 3000: 12 MP.
  return sharp(photo).resize(4000, 3000, { fit: 'fill' }).jpeg({ quality: 90 }).toBuffer();
}

function multipart(image: Buffer, boxes: string): { body: Buffer; type: string } {
  const b = 'faultsboundary';
  const body = Buffer.concat([
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="boxes"\r\n\r\n${boxes}\r\n`),
    Buffer.from(`--${b}\r\nContent-Disposition: form-data; name="image"; filename="big.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`),
    image,
    Buffer.from(`\r\n--${b}--\r\n`),
  ]);
  return { body, type: `multipart/form-data; boundary=${b}` };
}

/** 256 distinct boxes spread over the photo. */
const boxes = JSON.stringify(
  Array.from({ length: 256 }, (_, i) => {
    const x = (i % 16) * 240 + 10;
    const y = Math.floor(i / 16) * 180 + 5;
    return [x, y, x + 200 + (i % 7), y + 170];
  }),
);

/** The answer, or how the connection ended: the client must hear one or the other. */
function post(port: number, body: Buffer, type: string): Promise<string> {
  return new Promise((resolve) => {
    const req = http.request(
      { port, host: '127.0.0.1', method: 'POST', path: '/v1/embed', headers: { 'content-type': type, 'content-length': body.length } },
      (res) => {
        res.resume();
        res.on('end', () => resolve(`status ${res.statusCode}`));
        res.on('error', () => resolve(`status ${res.statusCode}, then closed`));
      },
    );
    req.on('error', (err) => resolve(`closed: ${(err as NodeJS.ErrnoException).code}`));
    req.end(body);
  });
}

t.test(`SIGTERM 0.4 s into a 256-box embed of a 12 MP photo exits 0, ${RUNS} times`, async (t) => {
  const { body, type } = multipart(await bigPhoto(), boxes);
  for (let run = 1; run <= RUNS; run++) {
    const server = await startChild({ LUMEN_FACE_SHUTDOWN_TIMEOUT: '1' });
    t.teardown(() => server.stop());
    const answered = post(server.port, body, type);
    await new Promise((r) => setTimeout(r, 400));
    server.child.kill('SIGTERM');
    const exit = await server.exited;
    t.same(exit, { code: 0, signal: null }, `run ${run}: exit code 0`);
    t.notMatch(server.output(), /terminate called|Napi::Error|Aborted/, `run ${run}: no abort`);
    t.match(await answered, /^(status \d+|closed)/, `run ${run}: the client was answered or its connection closed`);
  }
});
