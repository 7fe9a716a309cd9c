import { connect, type Socket } from 'node:net';
import t from 'tap';
import { backendFor, readFace } from '../helpers/fixtures.js';
import { testApp } from '../helpers/app.js';

/**
 * An in-flight slot is taken once the body has arrived, so uploads still arriving hold
 * none. With LUMEN_FACE_MAX_INFLIGHT=2 and six uploads stalled mid-body on every image route (over
 * real sockets), a normal request is answered, not refused with 503.
 */

const backend = await backendFor();
t.teardown(() => backend.close());
const jolie = readFace('identities/Angelina_Jolie/01.jpg');

t.test('uploads in progress hold no in-flight slot', async (t) => {
  const app = await testApp(t, { backend, env: { LUMEN_FACE_MAX_INFLIGHT: '2' } });
  const address = new URL(await app.listen({ host: '127.0.0.1', port: 0 }));
  const port = Number(address.port);

  const stalled: Socket[] = [];
  t.teardown(() => {
    for (const s of stalled) s.destroy();
  });
  const multipartHead = (name: string) => `--B\r\nContent-Disposition: form-data; name="${name}"; filename="a.jpg"\r\nContent-Type: image/jpeg\r\n\r\n`;
  const uploads: Array<[string, string, string]> = [
    ['/v1/detect', 'multipart/form-data; boundary=B', multipartHead('image')],
    ['/v1/faces', 'multipart/form-data; boundary=B', multipartHead('image')],
    ['/v1/embed', 'multipart/form-data; boundary=B', multipartHead('image')],
    ['/v1/faces/batch', 'multipart/form-data; boundary=B', multipartHead('image')],
    ['/v1/verify', 'multipart/form-data; boundary=B', multipartHead('image1')],
    ['/v1/faces', 'application/json', '{"image":"'],
  ];
  for (const [path, type, start] of uploads) {
    const body = Buffer.concat([Buffer.from(start), jolie.subarray(0, 20_000)]);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(port, '127.0.0.1', () => {
        // Announce far more than is sent: the body stays in progress.
        socket.write(`POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: ${type}\r\nContent-Length: ${body.length + 100_000}\r\n\r\n`);
        socket.write(type === 'application/json' ? Buffer.from(`${start}${jolie.subarray(0, 15_000).toString('base64')}`) : body, () => resolve());
      });
      socket.on('error', reject);
      stalled.push(socket);
    });
  }
  // Each stalled request has reached its handler (or JSON parser) by the time a later request on the server is answered.
  t.equal((await fetch(`${address.origin}/healthz`)).status, 200);

  for (let i = 0; i < 3; i++) {
    const form = new FormData();
    form.append('image', new Blob([jolie as BlobPart], { type: 'image/jpeg' }), 'a.jpg');
    const res = await fetch(`${address.origin}/v1/faces`, { method: 'POST', body: form });
    t.equal(res.status, 200, `request ${i + 1}: answered while ${stalled.length} uploads are in progress`);
    t.equal(((await res.json()) as { faces: unknown[] }).faces.length, 1);
  }
  t.ok(
    stalled.every((s) => !s.destroyed),
    'the slow uploads are still open',
  );
});
