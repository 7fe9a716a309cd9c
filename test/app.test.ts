import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import t from 'tap';
import { openapiDocument } from '../openapi/document.js';
import { backendFor, cosine, FACES_DIR, norm, readFace } from './helpers/fixtures.js';
import { imagePart, multipart, testApp } from './helpers/app.js';

const backend = await backendFor();
t.teardown(() => backend.close());
const app = await testApp(t, { backend });
const jolie = readFace('identities/Angelina_Jolie/01.jpg');
const group = readFace('groups/t1.jpg');

async function post(url: string, parts: Parameters<typeof multipart>[0]) {
  const { payload, headers } = await multipart(parts);
  const res = await app.inject({ method: 'POST', url, payload, headers });
  return res;
}

t.test('GET /healthz and /readyz', async (t) => {
  const health = await app.inject({ url: '/healthz', headers: { 'x-request-id': 'abc-123' } });
  t.same(health.json(), { status: 'ok' });
  t.equal(health.headers['x-request-id'], 'abc-123', 'the request id is echoed');
  const ready = await app.inject('/readyz');
  t.equal(ready.statusCode, 200);
  t.same(ready.json(), { status: 'ready' });
});

t.test('GET /v1/info', async (t) => {
  const info = (await app.inject('/v1/info')).json();
  t.equal(info.service.name, 'lumen-face');
  t.equal(info.runtime, 'onnxrt');
  t.equal(info.device, 'cpu');
  t.same(info.providers, ['cpu']);
  t.same(info.model, { name: 'scrfd_2.5g_mbf', runtime: 'onnxrt', precision: 'fp32', dim: 128 });
  t.equal(info.files.detection.source, 'local');
  t.equal(info.files.detection.sha256, 'bc24bb349491481c3ca793cf89306723162c280cb284c5a5e49df3760bf5c2ce');
  t.equal(info.files.recognition.size, 4001322);
  t.same(info.inputs, { detection: { width: 640, height: 640 }, recognition: { width: 112, height: 112, batch: null } });
  t.same(
    info.limits,
    {
      maxUploadBytes: 33554432,
      maxJsonBodyBytes: 45787819 /* 32 MiB in base64, plus 1 MiB */,
      maxPixels: 100000000,
      maxBoxes: 256,
      maxBatchSize: 8,
      maxFaces: 256,
      maxImages: 32,
      maxInflight: 32,
    },
    'what a batching client needs',
  );
  t.same(info.verify, { threshold: 0.397 }, 'the measured threshold of scrfd_2.5g_mbf');
  t.equal(info.versions.node, process.versions.node);
  t.equal(info.versions.onnxruntime, '1.30.0');
  t.match(info.versions.sharp, /^0\.35\./);
});

t.test('POST /v1/embed without boxes embeds the whole image', async (t) => {
  const res = await post('/v1/embed', [imagePart(jolie)]);
  t.equal(res.statusCode, 200);
  const body = res.json();
  t.same(body.model, { name: 'scrfd_2.5g_mbf', runtime: 'onnxrt', precision: 'fp32', dim: 128 });
  t.same(body.image, { width: 1536, height: 1152 });
  t.equal(body.faces.length, 1);
  t.same(body.faces[0].box, [0, 0, 1536, 1152]);
  t.equal(body.faces[0].aligned, true, 'aligned on the face found in the image');
  t.equal(body.faces[0].embedding.length, 128);
  t.ok(Math.abs(norm(body.faces[0].embedding) - 1) < 1e-5, 'unit norm');
  t.match(res.headers['server-timing'], /decode;dur=[\d.]+, detect;dur=[\d.]+, align;dur=[\d.]+, embed;dur=[\d.]+/);
});

t.test('POST /v1/embed with boxes: order kept, clamped, aligned or not', async (t) => {
  const detected = (await post('/v1/detect', [imagePart(group)])).json().faces;
  t.equal(detected.length, 6);
  const [a, b] = detected;
  const boxes = [b.box, a.box, [-50, -50, 100, 100]];
  const res = await post('/v1/embed', [imagePart(group), { name: 'boxes', value: JSON.stringify(boxes) }]);
  t.equal(res.statusCode, 200);
  const faces = res.json().faces;
  t.equal(faces.length, 3);
  t.same(faces[0].box, b.box, 'answered in the order sent');
  t.same(faces[1].box, a.box);
  t.same(faces[2].box, [0, 0, 100, 100], 'clamped to the image');
  t.equal(faces[0].aligned, true);
  t.equal(faces[1].aligned, true);

  const viaFaces = (await post('/v1/faces', [imagePart(group)])).json().faces;
  t.ok(cosine(faces[0].embedding, viaFaces[1].embedding) > 0.98, 'a bare box aligned with detected landmarks matches /v1/faces');
  t.ok(cosine(faces[1].embedding, viaFaces[0].embedding) > 0.98);

  const objects = await post('/v1/embed', [imagePart(group), { name: 'boxes', value: JSON.stringify([{ box: a.box, landmarks: a.landmarks }]) }]);
  const sent = objects.json().faces[0];
  t.equal(sent.aligned, true);
  t.same(sent.landmarks, a.landmarks, 'the sent landmarks are used');
  t.ok(cosine(sent.embedding, viaFaces[0].embedding) > 0.9999, 'same landmarks, same crop, same embedding');

  const plain = (await post('/v1/embed?align=false', [imagePart(group), { name: 'boxes', value: JSON.stringify([a.box]) }])).json().faces[0];
  t.equal(plain.aligned, false);
  t.equal(plain.landmarks, null);
  t.ok(cosine(plain.embedding, sent.embedding) < 0.999, 'the plain crop differs from the aligned one');

  const empty = (await post('/v1/embed', [imagePart(group), { name: 'boxes', value: '[]' }])).json();
  t.same(empty.faces, [], 'an empty list of boxes embeds nothing');
});

t.test('a box with no face around it keeps the plain crop', async (t) => {
  const res = await post('/v1/embed', [imagePart(readFace('noface/landscape_lake.jpg')), { name: 'boxes', value: '[[10,10,110,110]]' }]);
  const face = res.json().faces[0];
  t.equal(face.aligned, false);
  t.equal(face.landmarks, null);
  t.equal(face.embedding.length, 128);
});

t.test('POST /v1/detect and /v1/faces', async (t) => {
  const detect = await post('/v1/detect?min_score=0.5', [imagePart(group)]);
  t.equal(detect.statusCode, 200);
  const d = detect.json();
  t.same(d.image, { width: 1280, height: 886 });
  t.equal(d.faces.length, 6);
  for (const face of d.faces) {
    t.equal(face.landmarks.length, 5);
    t.ok(face.score >= 0.5 && face.score <= 1);
    const [x1, y1, x2, y2] = face.box;
    t.ok(x1 >= 0 && y1 >= 0 && x2 <= 1280 && y2 <= 886 && x2 > x1 && y2 > y1, 'box inside the image');
    const [le, re] = face.landmarks;
    t.ok(le[0] < re[0], "left eye (subject's right, image left) comes first");
  }
  const faces = (await post('/v1/faces?max_faces=2', [imagePart(group)])).json();
  t.equal(faces.faces.length, 2);
  t.same(
    faces.faces.map((f: { box: number[] }) => f.box),
    d.faces.slice(0, 2).map((f: { box: number[] }) => f.box),
    'the two largest',
  );
  for (const face of faces.faces) t.ok(Math.abs(norm(face.embedding) - 1) < 1e-5);
  t.same(faces.model.dim, 128);
  const none = (await post('/v1/faces', [imagePart(readFace('noface/coffee.png'), 'coffee.png', 'image/png')])).json();
  t.same(none.faces, []);
});

t.test('a real socket, with curl and with fetch', async (t) => {
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const file = `${FACES_DIR}/identities/Angelina_Jolie/01.jpg`;
  const { stdout } = await promisify(execFile)('curl', ['-sS', '-F', `image=@${file}`, '-F', 'boxes=[[587,154,971,700]]', `${address}/v1/embed`]);
  const curled = JSON.parse(stdout);
  t.equal(curled.faces.length, 1);
  t.equal(curled.faces[0].aligned, true);

  const form = new FormData();
  form.append('image', new Blob([readFileSync(file)], { type: 'image/jpeg' }), '01.jpg');
  const fetched = await (await fetch(`${address}/v1/faces`, { method: 'POST', body: form })).json();
  t.equal(fetched.faces.length, 1);
  t.ok(cosine(fetched.faces[0].embedding, curled.faces[0].embedding) > 0.98);

  const docs = await fetch(`${address}/docs/`);
  t.equal(docs.status, 200);
  t.match(await docs.text(), /swagger/i);
});

t.test('/healthz answers while inference is in flight', async (t) => {
  const inFlight = Array.from({ length: 6 }, () => post('/v1/faces', [imagePart(group)]));
  let settled = 0;
  for (const p of inFlight) void p.then(() => settled++);
  await new Promise((r) => setImmediate(r));
  const health = await app.inject('/healthz');
  t.equal(health.statusCode, 200);
  t.ok(settled < inFlight.length, `healthz answered while ${inFlight.length - settled} of ${inFlight.length} inference requests were still running`);
  for (const res of await Promise.all(inFlight)) t.equal(res.statusCode, 200);
});

t.test('the committed openapi/openapi.json matches the live document', async (t) => {
  const committed = readFileSync(new URL('../../openapi/openapi.json', import.meta.url), 'utf8');
  t.equal(committed, await openapiDocument(), 'run `npm run openapi` to regenerate');
  const live = (await app.inject('/openapi.json')).json();
  const upload = live.paths['/v1/embed'].post.requestBody.content['multipart/form-data'].schema;
  t.same(upload.properties.image, { type: 'string', format: 'binary', description: upload.properties.image.description });
  t.same(upload.required, ['image']);
  t.ok(live.paths['/v1/faces'].post.responses['400'], 'errors are documented');
});
