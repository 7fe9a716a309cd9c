/**
 * immich's ML protocol over a real socket, with the request built exactly as immich's server builds it
 * (Node's global FormData, the image a Blob with no file name), and a stand-in immich ML server on
 * 127.0.0.1 for the forwarded tasks.
 */
import { request as httpRequest, createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import t, { type Test } from 'tap';
import type { FastifyInstance } from 'fastify';
import { backendFor, readFace } from '../helpers/fixtures.js';
import { testApp } from '../helpers/app.js';

const backend = await backendFor();
t.teardown(() => backend.close());

const MODEL = 'scrfd_2.5g_mbf';
const jolie = readFace('identities/Angelina_Jolie/01.jpg');
const group = readFace('groups/t1.jpg');
const noface = readFace('noface/rocket.jpg');

const faceEntries = (modelName = MODEL, options: Record<string, unknown> | undefined = { minScore: 0.7 }) =>
  JSON.stringify({ 'facial-recognition': { detection: { modelName, ...(options && { options }) }, recognition: { modelName } } });
const clipImageEntries = JSON.stringify({ clip: { visual: { modelName: 'ViT-B-32__openai' } } });
const clipTextEntries = JSON.stringify({ clip: { textual: { modelName: 'ViT-B-32__openai', options: { language: 'en-US' } } } });

/** What immich's server sends (MachineLearningRepository.getFormData). */
function immichForm(entries: string | undefined, payload: { image?: Uint8Array; text?: string } = {}): FormData {
  const form = new FormData();
  if (entries !== undefined) form.append('entries', entries);
  if (payload.image) form.append('image', new Blob([new Uint8Array(payload.image)]));
  if (payload.text !== undefined) form.append('text', payload.text);
  return form;
}

async function listen(app: FastifyInstance): Promise<string> {
  await app.listen({ host: '127.0.0.1', port: 0 });
  return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
}

async function predict(base: string, form: FormData, headers: Record<string, string> = {}) {
  const res = await fetch(`${base}/predict`, { method: 'POST', body: form, headers });
  const text = await res.text();
  return { status: res.status, type: res.headers.get('content-type') ?? '', text, json: () => JSON.parse(text) };
}

function checkError(t: Test, res: { status: number; json: () => unknown }, status: number, code: string) {
  t.equal(res.status, status, `${code}: status ${status}`);
  const body = res.json() as { statusCode: number; code: string; message: string };
  t.same(Object.keys(body).sort(), ['code', 'error', 'message', 'statusCode'], 'the error shape');
  t.equal(body.statusCode, status);
  t.equal(body.code, code);
  return body as { message: string };
}

/** One face as immich's /predict answers it. */
interface ImmichFace {
  boundingBox: { x1: number; y1: number; x2: number; y2: number };
  embedding: string;
  score: number;
}

const app = await testApp(t, { backend });
const base = await listen(app);

t.test('a face request as immich sends it, field by field, against /v1/faces', async (t) => {
  const res = await predict(base, immichForm(faceEntries(), { image: jolie }));
  t.equal(res.status, 200);
  t.match(res.type, /^application\/json/);
  const body = res.json();
  t.same(Object.keys(body).sort(), ['facial-recognition', 'imageHeight', 'imageWidth']);
  t.equal(body.imageWidth, 1536);
  t.equal(body.imageHeight, 1152);
  const faces = body['facial-recognition'];
  t.ok(faces.length >= 1, 'a face');

  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(jolie)], { type: 'image/jpeg' }), 'jolie.jpg');
  const reference = await (await fetch(`${base}/v1/faces?min_score=0.7`, { method: 'POST', body: form })).json();
  t.equal(faces.length, reference.faces.length, 'the same count as /v1/faces at min_score 0.7');
  (faces as ImmichFace[]).forEach((face, i) => {
    t.same(Object.keys(face).sort(), ['boundingBox', 'embedding', 'score']);
    t.same(Object.keys(face.boundingBox).sort(), ['x1', 'x2', 'y1', 'y2']);
    const { x1, y1, x2, y2 } = face.boundingBox;
    for (const v of [x1, y1, x2, y2]) t.ok(Number.isInteger(v), 'whole pixels, as immich stores them');
    const ref = reference.faces[i];
    for (const [k, v] of [x1, y1, x2, y2].entries()) t.ok(Math.abs(v - ref.box[k]) <= 1, `box edge ${k} within a pixel (${v} vs ${ref.box[k]})`);
    t.type(face.embedding, 'string', 'the embedding is JSON text');
    t.match(face.embedding, /^\[-?\d/);
    const vector = JSON.parse(face.embedding);
    t.equal(vector.length, 128);
    t.same(vector, ref.embedding, 'the same embedding values');
    t.ok(face.score >= 0.7 && face.score <= 1, 'score at or above minScore');
    t.ok(Math.abs(face.score - ref.score) < 1e-4);
  });
});

t.test('model names with immich-app/, minScore honoured, 0.7 by default, [] for no face', async (t) => {
  const at = async (entries: string, image = group) => (await predict(base, immichForm(entries, { image }))).json()['facial-recognition'].length as number;
  const low = await at(faceEntries(MODEL, { minScore: 0.3 }));
  const high = await at(faceEntries(MODEL, { minScore: 0.95 }));
  t.ok(low > high, `minScore 0.3 finds more faces (${low}) than 0.95 (${high})`);
  t.equal(await at(faceEntries(MODEL, undefined)), await at(faceEntries(MODEL, { minScore: 0.7 })), 'no options means minScore 0.7');
  t.equal(await at(faceEntries(`immich-app/${MODEL}`)), await at(faceEntries()), 'the immich-app/ prefix is the same model');
  const none = await predict(base, immichForm(faceEntries(), { image: noface }));
  t.equal(none.status, 200);
  t.same(none.json()['facial-recognition'], []);
});

t.test('bad requests are 4xx JSON, never 5xx', async (t) => {
  checkError(t, await predict(base, immichForm('{not json', { image: jolie })), 422, 'INVALID_ENTRIES');
  checkError(t, await predict(base, immichForm('{}', { image: jolie })), 422, 'INVALID_ENTRIES');
  checkError(t, await predict(base, immichForm('[1]', { image: jolie })), 422, 'INVALID_ENTRIES');
  checkError(t, await predict(base, immichForm(undefined, { image: jolie })), 422, 'INVALID_ENTRIES');
  const noName = JSON.stringify({ 'facial-recognition': { detection: { options: { minScore: 0.7 } }, recognition: { modelName: MODEL } } });
  t.match(checkError(t, await predict(base, immichForm(noName, { image: jolie })), 422, 'INVALID_ENTRIES').message, /modelName/);
  const onlyDetection = JSON.stringify({ 'facial-recognition': { detection: { modelName: MODEL } } });
  checkError(t, await predict(base, immichForm(onlyDetection, { image: jolie })), 422, 'INVALID_ENTRIES');
  checkError(t, await predict(base, immichForm(faceEntries(MODEL, { minScore: 2 }), { image: jolie })), 422, 'INVALID_ENTRIES');
  checkError(t, await predict(base, immichForm(faceEntries(MODEL, { minScore: '0.5' }), { image: jolie })), 422, 'INVALID_ENTRIES');
  checkError(t, await predict(base, immichForm(faceEntries())), 400, 'MISSING_IMAGE');
  checkError(t, await predict(base, immichForm(faceEntries(), { image: Buffer.from('%PDF-1.7 not an image at all') })), 415, 'UNSUPPORTED_IMAGE');
  const other = checkError(t, await predict(base, immichForm(faceEntries('buffalo_l'), { image: jolie })), 422, 'MODEL_MISMATCH');
  t.match(other.message, /buffalo_l/, 'names the model asked for');
  t.match(other.message, new RegExp(MODEL), 'names the model loaded');
  const mixed = JSON.stringify({ ...JSON.parse(faceEntries()), ...JSON.parse(clipImageEntries) });
  checkError(t, await predict(base, immichForm(mixed, { image: jolie })), 422, 'TASK_NOT_SERVED');
  t.match(checkError(t, await predict(base, immichForm(clipImageEntries, { image: jolie })), 422, 'TASK_NOT_SERVED').message, /LUMEN_FACE_IMMICH_UPSTREAM/);
  const notMultipart = await fetch(`${base}/predict`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  // The one body reader takes JSON on every upload route; a JSON body without entries is refused like a form without them.
  t.equal(notMultipart.status, 422);
  t.equal(((await notMultipart.json()) as { code: string }).code, 'INVALID_ENTRIES');
});

t.test('GET /ping and GET /', async (t) => {
  const ping = await fetch(`${base}/ping`);
  t.equal(ping.status, 200);
  t.match(ping.headers.get('content-type'), /^text\/plain/);
  t.equal(await ping.text(), 'pong');
  const root = await fetch(`${base}/`);
  t.same(await root.json(), { message: 'Immich ML' });
});

t.test('/predict is counted by task, with a bounded label', async (t) => {
  const metrics = await (await fetch(`${base}/metrics`)).text();
  t.match(metrics, /lumen_face_immich_predict_total\{task="facial-recognition",status="200"\} \d+/);
  t.match(metrics, /lumen_face_immich_predict_total\{task="invalid",status="422"\} \d+/);
  t.match(metrics, /lumen_face_immich_predict_total\{task="clip",status="422"\} 1/);
  t.match(metrics, /lumen_face_http_requests_total\{method="POST",route="\/predict",status="200"\} \d+/);
});

/** A stand-in immich ML server: answers CLIP like immich ML does, records what it received. */
interface Received {
  entries: string;
  image?: Buffer;
  imageName?: string;
  text?: string;
  forwarded?: string;
}
type Mode = 'answer' | 'hang' | 'fail' | 'huge' | 'reject';

async function standIn(t: Test) {
  const received: Received[] = [];
  const hanging: ServerResponse[] = [];
  let mode: Mode = 'answer';
  let closedWhileHanging = 0;
  const server: Server = createServer(async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = await new Request('http://stand-in/', {
      method: 'POST',
      headers: { 'content-type': req.headers['content-type'] as string },
      body: Buffer.concat(chunks),
    }).formData();
    const image = form.get('image');
    received.push({
      entries: form.get('entries') as string,
      image: image instanceof Blob ? Buffer.from(await image.arrayBuffer()) : undefined,
      imageName: image instanceof File ? image.name : undefined,
      text: (form.get('text') as string | null) ?? undefined,
      forwarded: req.headers['x-lumen-face-forwarded'] as string | undefined,
    });
    if (mode === 'hang') {
      res.once('close', () => closedWhileHanging++);
      return void hanging.push(res);
    }
    if (mode === 'fail') return void res.writeHead(500, { 'content-type': 'application/json' }).end('{"detail":"Internal Server Error"}');
    if (mode === 'reject') return void res.writeHead(422, { 'content-type': 'application/json' }).end('{"detail":"Invalid request format."}');
    if (mode === 'huge') return void res.writeHead(200, { 'content-type': 'application/json' }).end(`{"clip":"${'1'.repeat(64 * 1024)}"}`);
    const answer = image ? { clip: '[0.25,-0.5,0.125]', imageHeight: 1152, imageWidth: 1536 } : { clip: '[0.5,0.75]' };
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => {
    for (const res of hanging) res.destroy();
    server.closeAllConnections();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    setMode: (m: Mode) => (mode = m),
    closedWhileHanging: () => closedWhileHanging,
  };
}

t.test('other tasks are forwarded to LUMEN_FACE_IMMICH_UPSTREAM', async (t) => {
  const upstream = await standIn(t);
  const env = { LUMEN_FACE_IMMICH_UPSTREAM: upstream.url, LUMEN_FACE_IMMICH_UPSTREAM_TIMEOUT: '1', LUMEN_FACE_IMMICH_UPSTREAM_MAX_BYTES: '32768' };
  const forwarding = await listen(await testApp(t, { backend, env }));

  const visual = await predict(forwarding, immichForm(clipImageEntries, { image: jolie }));
  t.equal(visual.status, 200);
  t.same(visual.json(), { clip: '[0.25,-0.5,0.125]', imageHeight: 1152, imageWidth: 1536 }, 'the upstream answer as it is');
  t.equal(upstream.received[0].entries, clipImageEntries, 'entries unchanged');
  t.ok(upstream.received[0].image?.equals(jolie), 'the image bytes unchanged');
  t.equal(upstream.received[0].imageName, 'blob', 'a Blob with no file name, as immich sends it');
  t.equal(upstream.received[0].forwarded, '1', 'marked as forwarded');

  const textual = await predict(forwarding, immichForm(clipTextEntries, { text: 'a dog on a beach' }));
  t.equal(textual.status, 200);
  t.same(textual.json(), { clip: '[0.5,0.75]' });
  t.same(upstream.received[1], { entries: clipTextEntries, image: undefined, imageName: undefined, text: 'a dog on a beach', forwarded: '1' });

  const faces = await predict(forwarding, immichForm(faceEntries(), { image: jolie }));
  t.equal(faces.status, 200, 'faces are still answered here');
  t.equal(upstream.received.length, 2, 'and never forwarded');

  upstream.setMode('reject');
  const rejected = await predict(forwarding, immichForm(clipTextEntries, { text: 'x' }));
  t.equal(rejected.status, 422, "the upstream's 4xx is passed on");
  t.same(rejected.json(), { detail: 'Invalid request format.' });

  upstream.setMode('fail');
  t.match(checkError(t, await predict(forwarding, immichForm(clipTextEntries, { text: 'x' })), 502, 'UPSTREAM_FAILED').message, /answered 500/);

  upstream.setMode('huge');
  t.match(
    checkError(t, await predict(forwarding, immichForm(clipTextEntries, { text: 'x' })), 502, 'UPSTREAM_FAILED').message,
    /LUMEN_FACE_IMMICH_UPSTREAM_MAX_BYTES/,
  );

  upstream.setMode('hang');
  const before = upstream.received.length;
  const hung = checkError(t, await predict(forwarding, immichForm(clipImageEntries, { image: jolie })), 504, 'UPSTREAM_TIMEOUT');
  t.match(hung.message, /within 1 s \(LUMEN_FACE_IMMICH_UPSTREAM_TIMEOUT\)/);
  t.equal(upstream.received.length, before + 1, 'the upstream had the request and never answered');

  const looped = await predict(forwarding, immichForm(clipTextEntries, { text: 'x' }), { 'x-lumen-face-forwarded': '1' });
  t.match(checkError(t, looped, 502, 'UPSTREAM_FAILED').message, /points back/);
});

t.test('an upstream that is down gives 502', async (t) => {
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const forwarding = await listen(await testApp(t, { backend, env: { LUMEN_FACE_IMMICH_UPSTREAM: url } }));
  const res = await predict(forwarding, immichForm(clipImageEntries, { image: jolie }));
  t.match(checkError(t, res, 502, 'UPSTREAM_FAILED').message, /ECONNREFUSED/);
});

t.test('API keys: immich routes follow LUMEN_FACE_IMMICH', async (t) => {
  const keys = { LUMEN_FACE_API_KEYS: 'secret-key' };
  const on = await listen(await testApp(t, { backend, env: keys }));
  checkError(t, await predict(on, immichForm(faceEntries(), { image: jolie })), 401, 'UNAUTHORIZED');
  t.equal((await fetch(`${on}/ping`)).status, 401, 'on: the keys protect /ping too, so immich sees the URL as down');
  t.equal((await predict(on, immichForm(faceEntries(), { image: jolie }), { 'x-api-key': 'secret-key' })).status, 200);

  const open = await listen(await testApp(t, { backend, env: { ...keys, LUMEN_FACE_IMMICH: 'public' } }));
  t.equal((await predict(open, immichForm(faceEntries(), { image: jolie }))).status, 200, 'public: /predict needs no key');
  t.equal(await (await fetch(`${open}/ping`)).text(), 'pong');
  const form = new FormData();
  form.append('image', new Blob([new Uint8Array(jolie)]), 'a.jpg');
  t.equal((await fetch(`${open}/v1/faces`, { method: 'POST', body: form })).status, 401, 'public: the other routes keep their keys');
  t.equal((await fetch(`${open}/v1/info`)).status, 401);

  const off = await listen(await testApp(t, { backend, env: { LUMEN_FACE_IMMICH: 'off' } }));
  checkError(t, await predict(off, immichForm(faceEntries(), { image: jolie })), 404, 'NOT_FOUND');
  t.equal((await fetch(`${off}/ping`)).status, 404);
});

t.test('the immich variables: defaults and refusals', async (t) => {
  const { loadConfig, ConfigError } = await import('../../src/config.js');
  const defaults = loadConfig({});
  t.equal(defaults.immich, 'on');
  t.equal(defaults.immichUpstream, undefined);
  t.equal(defaults.immichUpstreamTimeout, 120);
  t.equal(defaults.immichUpstreamMaxBytes, 8 * 1024 * 1024);
  t.equal(loadConfig({ LUMEN_FACE_IMMICH_UPSTREAM: 'http://immich-machine-learning:3003/' }).immichUpstream, 'http://immich-machine-learning:3003');
  t.equal(loadConfig({ LUMEN_FACE_IMMICH: 'PUBLIC' }).immich, 'public');
  t.throws(() => loadConfig({ LUMEN_FACE_IMMICH: 'yes' }), ConfigError);
  t.throws(() => loadConfig({ LUMEN_FACE_IMMICH_UPSTREAM: 'ftp://ml:3003' }), /LUMEN_FACE_IMMICH_UPSTREAM/);
  t.throws(() => loadConfig({ LUMEN_FACE_IMMICH_UPSTREAM_TIMEOUT: '0' }), /LUMEN_FACE_IMMICH_UPSTREAM_TIMEOUT/);
  t.throws(() => loadConfig({ LUMEN_FACE_IMMICH_UPSTREAM_MAX_BYTES: '-1' }), /LUMEN_FACE_IMMICH_UPSTREAM_MAX_BYTES/);
});

t.test('a face request while the models load gets 503, and /ping says so', async (t) => {
  // A pack that is not on disk, offline: loading fails, so the routes answer NOT_READY, never 200.
  const failing = await listen(await testApp(t, { env: { LUMEN_FACE_MODEL_NAME: 'buffalo_l', LUMEN_FACE_PACK_LAYOUT: 'immich' } }));
  const ping = await fetch(`${failing}/ping`);
  t.equal(ping.status, 503);
  t.equal((await ping.json()).code, 'NOT_READY');
  checkError(t, await predict(failing, immichForm(faceEntries('buffalo_l'), { image: jolie })), 503, 'NOT_READY');
});

const until = async (what: string, ok: () => boolean) => {
  // Bounded by tap's test timeout; the condition, not the time, is what is checked.
  while (!ok()) await new Promise((resolve) => setTimeout(resolve, 10));
  return what;
};

t.test('a client that goes away cancels its forwarded request at once, many times', async (t) => {
  const upstream = await standIn(t);
  upstream.setMode('hang');
  const forwarding = await listen(
    await testApp(t, { backend, env: { LUMEN_FACE_IMMICH_UPSTREAM: upstream.url, LUMEN_FACE_IMMICH_UPSTREAM_TIMEOUT: '600', LUMEN_FACE_MAX_INFLIGHT: '2' } }),
  );
  const request = new Request(`${forwarding}/predict`, { method: 'POST', body: immichForm(clipTextEntries, { text: 'x' }) });
  const body = Buffer.from(await request.arrayBuffer());
  for (let i = 0; i < 10; i++) {
    const client = httpRequest(`${forwarding}/predict`, {
      method: 'POST',
      headers: { 'content-type': request.headers.get('content-type') as string, 'content-length': body.length },
    });
    client.on('error', () => undefined);
    client.end(body);
    await until('the upstream has it', () => upstream.received.length === i + 1);
    client.destroy();
    await until('the upstream connection is closed', () => upstream.closedWhileHanging() === i + 1);
  }
  t.equal(upstream.closedWhileHanging(), 10, 'every forwarded request was cancelled long before its 600 s timeout');
  upstream.setMode('answer');
  const after = await predict(forwarding, immichForm(clipTextEntries, { text: 'x' }));
  t.equal(after.status, 200, 'the slots came back (LUMEN_FACE_MAX_INFLIGHT=2 after 10 cancelled requests)');
});
