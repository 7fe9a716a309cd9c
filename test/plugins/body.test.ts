import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';
import { CLIENTS, sendAll, type Try } from '../../bench/refusal-clients.js';
import { startChild } from '../helpers/server-child.js';

/**
 * An upload over LUMEN_FACE_MAX_UPLOAD_BYTES is refused while it arrives, with 413 UPLOAD_TOO_LARGE, on the
 * single-photo and on the batch routes alike: one part over the bound, or parts that pass it together. Every
 * client that writes its whole body before reading (Node's fetch and http.request, curl, Python requests)
 * reads that answer, against the real server in its own process, many times: never MALFORMED_MULTIPART,
 * never MISSING_IMAGE (the body's parts seen as none), never a network error.
 */

const LIMIT = 100_000;
const server = await startChild({ LUMEN_FACE_MAX_UPLOAD_BYTES: String(LIMIT), LUMEN_FACE_REQUEST_TIMEOUT: '4', LUMEN_FACE_LOG_LEVEL: 'info' });
t.teardown(() => server.stop());
const dir = mkdtempSync(join(tmpdir(), 'lumen-body-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** A multipart body of "image" file parts of these sizes. */
function parts(sizes: number[]): { body: Buffer; contentType: string } {
  const boundary = '----lumenfacebodytest5Qz';
  const chunks: Buffer[] = [];
  sizes.forEach((size, i) => {
    chunks.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="p${i}.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`));
    chunks.push(Buffer.alloc(size, 0x5a), Buffer.from('\r\n'));
  });
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

const BODIES: Array<[string, number[]]> = [
  ['one part of 1.3 MB', [1_300_000]],
  ['one part of 8 MB', [8_000_000]],
  ['two parts of 60 KB', [60_000, 60_000]],
];
const ROUTES = ['/v1/faces/batch', '/v1/detect/batch', '/v1/faces'];
const TRIES = 12;

for (const client of CLIENTS) {
  t.test(`${client}: an over-limit upload is a 413 while it arrives`, async (t) => {
    for (const route of ROUTES) {
      for (const [name, sizes] of BODIES) {
        if (route === '/v1/faces' && sizes.length > 1) continue;
        const { body, contentType } = parts(sizes);
        const tries: Try[] = Array.from({ length: TRIES }, () => ({
          method: 'POST',
          url: `${server.address}${route}`,
          headers: { 'content-type': contentType },
          body,
        }));
        const seen = await sendAll(client, tries, dir);
        const wrong = seen
          .filter((s) => s.error !== undefined || s.status !== 413 || s.code !== 'UPLOAD_TOO_LARGE')
          .map((s) => s.error ?? `${s.status} ${s.code}`);
        t.same(wrong, [], `${route}, ${name}: ${TRIES} tries, each 413 UPLOAD_TOO_LARGE`);
      }
    }
  });
}
