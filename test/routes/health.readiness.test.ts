import { createReadStream, statSync } from 'node:fs';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import t from 'tap';
import { imagePart, multipart, testApp } from '../helpers/app.js';
import { MODELS_DIR, readFace } from '../helpers/fixtures.js';

/**
 * A pack downloaded at start-up from a plain mirror on 127.0.0.1: /readyz and the image routes say
 * "loading" until both files are in, then the service is ready and /v1/info says where they came from.
 */
t.test('loading, then ready, with the pack downloaded from a mirror', async (t) => {
  const held: (() => void)[] = [];
  let release = false;
  const requests: string[] = [];
  const mirror = createServer((req, res: ServerResponse) => {
    requests.push(req.url ?? '');
    const serve = () => {
      const file = join(MODELS_DIR, decodeURIComponent(req.url ?? '').replace(/^\/+/, ''));
      res.writeHead(200, { 'content-length': statSync(file).size });
      createReadStream(file).pipe(res);
    };
    if (release) serve();
    else held.push(serve);
  });
  await new Promise<void>((resolve) => mirror.listen(0, '127.0.0.1', resolve));
  t.teardown(() => mirror.close());
  const base = `http://127.0.0.1:${(mirror.address() as AddressInfo).port}`;

  const app = await testApp(t, {
    env: { LUMEN_FACE_LOCAL_DIR: '/nonexistent', LUMEN_FACE_OFFLINE: '0', LUMEN_FACE_REPO_BASE: base, LUMEN_FACE_MODEL_NAME: 'scrfd_500m_mbf' },
  });
  while (held.length === 0) await new Promise((r) => setTimeout(r, 10));

  const loading = await app.inject('/readyz');
  t.equal(loading.statusCode, 503);
  t.same(loading.json(), { status: 'loading' });
  t.same((await app.inject('/healthz')).json(), { status: 'ok' }, 'alive while loading');
  const early = await app.inject({ method: 'POST', url: '/v1/faces', ...(await multipart([imagePart(readFace('groups/t1.jpg'))])) });
  t.equal(early.statusCode, 503);
  t.equal(early.json().code, 'NOT_READY');
  t.match(early.json().message, /still loading/);
  t.equal((await app.inject('/v1/info')).statusCode, 503);

  release = true;
  for (const serve of held.splice(0)) serve();
  await app.faceBackend.loaded;
  t.same((await app.inject('/readyz')).json(), { status: 'ready' });
  t.same(requests, ['/scrfd_500m_mbf/onnxrt/fp32/detection.onnx', '/scrfd_500m_mbf/onnxrt/fp32/recognition.onnx'], 'the plain mirror layout');
  const info = (await app.inject('/v1/info')).json();
  t.equal(info.files.detection.source, 'remote');
  t.equal(info.files.detection.url, `${base}/scrfd_500m_mbf/onnxrt/fp32/detection.onnx`);
  t.equal(info.files.detection.sha256, '5e4447f50245bbd7966bd6c0fa52938c61474a04ec7def48753668a9d8b4ea3a');
  const faces = await app.inject({ method: 'POST', url: '/v1/faces', ...(await multipart([imagePart(readFace('groups/t1.jpg'))])) });
  t.equal(faces.statusCode, 200);
  t.equal(faces.json().faces.length, 6);
});
