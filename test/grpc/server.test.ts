import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import type { Capability, InferResponse } from '../../grpc/protocol.js';
import { postParts, imagePart } from '../helpers/app.js';
import { backendFor, cosine, readFace, TEST_ENGINE } from '../helpers/fixtures.js';
import { grpcServer, infer, keyMetadata, request, resultJson, serverStream, unary } from '../helpers/grpc.js';

const backend = await backendFor('scrfd_2.5g_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());
const server = await grpcServer(t, { backend });
const DIM = backend.info().model.dim;

interface FaceV1 {
  faces: { bbox: number[]; confidence: number; landmarks: number[]; embedding?: number[] }[];
  count: number;
  model_id: string;
}

const PHOTOS = ['groups/couple.jpg', 'groups/t1.jpg', 'groups/selfie_many_people.jpg', 'identities/Angelina_Jolie/01.jpg'];

/** One request on a stream of its own: its one answer (the stream must end OK with it). */
async function one(task: string, payload: Buffer, meta: Record<string, string> = {}): Promise<InferResponse> {
  const { responses, status } = await infer(server, [request({ task, payload, meta, payload_mime: 'image/jpeg' })]);
  if (status.code !== grpc.status.OK || responses.length !== 1)
    throw new Error(`expected one answer and OK; received ${responses.length} and status ${status.code} ${status.details}`);
  return responses[0];
}

t.test('face_detect_and_embed gives the faces /v1/faces gives with the same thresholds', async (t) => {
  for (const photo of PHOTOS) {
    const bytes = readFace(photo);
    const answer = await one('face_detect_and_embed', bytes);
    t.equal(answer.correlation_id, 'c1', 'the correlation id is echoed');
    t.equal(answer.is_final, true);
    t.equal(answer.result_mime, 'application/json;schema=face_v1');
    t.notOk(answer.error, `${photo}: no error`);
    const body = resultJson(answer) as unknown as FaceV1;
    t.equal(answer.meta.face_count, String(body.count), 'meta face_count');
    t.match(answer.meta.processing_time_ms, /^\d+$/, 'meta processing_time_ms');
    t.equal(body.model_id, 'scrfd_2.5g_mbf');
    // Lumen's defaults: detection_confidence_threshold 0.7, nms_threshold 0.4, face_size_min 50.
    const http = await postParts(server.app, '/v1/faces?min_score=0.7&nms=0.4&min_size=50', [imagePart(bytes)]);
    t.equal(http.statusCode, 200);
    const expected = http.json().faces as { box: number[]; landmarks: number[][]; embedding: number[] }[];
    t.ok(expected.length > 0, `${photo}: /v1/faces finds faces`);
    t.equal(body.count, expected.length, `${photo}: as many faces`);
    t.equal(body.faces.length, body.count);
    body.faces.forEach((face, i) => {
      t.ok(
        face.bbox.every((x, k) => Math.abs(x - expected[i].box[k]) <= 1),
        `${photo} face ${i}: box within 1 px`,
      );
      t.equal(face.landmarks.length, 10, 'landmarks flattened to x1, y1, ..., x5, y5');
      t.ok(
        face.landmarks.every((x, k) => Math.abs(x - expected[i].landmarks[k >> 1][k & 1]) <= 1),
        `${photo} face ${i}: landmarks within 1 px`,
      );
      t.equal(face.embedding!.length, DIM);
      t.ok(cosine(face.embedding!, expected[i].embedding) >= 0.9999, `${photo} face ${i}: cosine >= 0.9999`);
      t.ok(face.confidence >= 0.7 && face.confidence <= 1, 'confidence at or above the threshold');
    });
  }
});

t.test('meta numbers read as Lumen reads them: "50" and "50.0" are the same', async (t) => {
  const bytes = readFace('groups/t1.jpg');
  const a = resultJson(
    await one('face_detect_and_embed', bytes, { face_size_min: '50', max_faces: '3', detection_confidence_threshold: '0.7' }),
  ) as unknown as FaceV1;
  const b = resultJson(
    await one('face_detect_and_embed', bytes, { face_size_min: '50.0', max_faces: '3.0', detection_confidence_threshold: '.7' }),
  ) as unknown as FaceV1;
  t.same(
    b.faces.map((f) => f.bbox),
    a.faces.map((f) => f.bbox),
  );
});

t.test('max_faces keeps that many faces, the largest', async (t) => {
  const bytes = readFace('groups/t1.jpg');
  const all = resultJson(await one('face_detect_and_embed', bytes, { face_size_min: '0' })) as unknown as FaceV1;
  t.ok(all.count > 2, 'the photo has more than two faces');
  const two = await one('face_detect_and_embed', bytes, { face_size_min: '0', max_faces: '2' });
  const body = resultJson(two) as unknown as FaceV1;
  t.equal(body.count, 2);
  t.equal(two.meta.face_count, '2');
  t.same(
    body.faces.map((f) => f.bbox),
    all.faces.slice(0, 2).map((f) => f.bbox),
    'the two largest',
  );
  const unlimited = resultJson(await one('face_detect_and_embed', bytes, { face_size_min: '0', max_faces: '-1' })) as unknown as FaceV1;
  t.equal(unlimited.count, all.count, '-1 is no limit');
});

const shorterSide = (b: number[]) => Math.min(b[2] - b[0], b[3] - b[1]);
const longerSide = (b: number[]) => Math.max(b[2] - b[0], b[3] - b[1]);

t.test('face_size_min and face_size_max drop faces by size', async (t) => {
  const bytes = readFace('groups/t1.jpg');
  const all = resultJson(await one('face_detect', bytes, { face_size_min: '0' })) as unknown as FaceV1;
  const sides = all.faces.map((f) => shorterSide(f.bbox)).sort((a, b) => a - b);
  const cut = Math.ceil((sides[0] + sides[sides.length - 1]) / 2);
  const big = resultJson(await one('face_detect', bytes, { face_size_min: String(cut) })) as unknown as FaceV1;
  t.ok(big.count > 0 && big.count < all.count, `face_size_min ${cut} drops some faces, not all`);
  t.ok(
    big.faces.every((f) => shorterSide(f.bbox) >= cut),
    'what is left is at least that big',
  );
  const limit = Math.floor(Math.max(...all.faces.map((f) => longerSide(f.bbox)))) - 1;
  const within = all.faces.filter((f) => longerSide(f.bbox) <= limit).map((f) => f.bbox);
  t.ok(within.length > 2 && within.length < all.count, 'the limit leaves out the largest face');
  const small = resultJson(await one('face_detect', bytes, { face_size_min: '0', face_size_max: String(limit) })) as unknown as FaceV1;
  t.same(
    small.faces.map((f) => f.bbox),
    within,
    'face_size_max drops the faces whose longer side is larger',
  );
  const smallTwo = resultJson(
    await one('face_detect_and_embed', bytes, { face_size_min: '0', face_size_max: String(limit), max_faces: '2' }),
  ) as unknown as FaceV1;
  t.same(
    smallTwo.faces.map((f) => f.bbox),
    within.slice(0, 2),
    'with max_faces, the largest faces within face_size_max',
  );
});

t.test('face_detect gives the same schema without embeddings', async (t) => {
  const answer = await one('face_detect', readFace('groups/couple.jpg'));
  t.equal(answer.result_mime, 'application/json;schema=face_v1');
  const body = resultJson(answer) as unknown as FaceV1;
  t.equal(body.count, 2);
  t.ok(body.faces.every((f) => f.embedding === undefined && f.bbox.length === 4 && f.landmarks.length === 10));
});

t.test('face_embed embeds a face image, aligned when landmarks are sent', async (t) => {
  const bytes = readFace('identities/Angelina_Jolie/01.jpg');
  const detected = resultJson(await one('face_detect_and_embed', bytes)) as unknown as FaceV1;
  const face = detected.faces[0];
  const points = [0, 1, 2, 3, 4].map((i) => ({ x: face.landmarks[2 * i], y: face.landmarks[2 * i + 1] }));
  const aligned = await one('face_embed', bytes, { landmarks: JSON.stringify(points) });
  t.equal(aligned.result_mime, 'application/json;schema=embedding_v1');
  t.equal(aligned.meta.dim, String(DIM));
  const body = resultJson(aligned) as { vector: number[]; dim: number; model_id: string };
  t.equal(body.dim, DIM);
  t.equal(body.vector.length, DIM);
  t.equal(body.model_id, 'scrfd_2.5g_mbf');
  t.ok(cosine(body.vector, face.embedding!) > 0.99, "aligned with the detected landmarks: the detected face's embedding");
  const plain = resultJson(await one('face_embed', bytes)) as { vector: number[] };
  t.equal(plain.vector.length, DIM, 'without landmarks, the whole image');
  t.ok(cosine(plain.vector, face.embedding!) < 0.99, 'which is not the aligned face');
});

t.test('many requests on one stream, each answered under its own id', async (t) => {
  const photos = ['groups/couple.jpg', 'identities/Angelina_Jolie/01.jpg', 'groups/t1.jpg'];
  const { responses, status } = await infer(
    server,
    photos.map((p, i) => request({ correlation_id: `p${i}`, payload: readFace(p) })),
  );
  t.equal(status.code, grpc.status.OK);
  t.same(responses.map((r) => r.correlation_id).sort(), ['p0', 'p1', 'p2']);
  t.ok(responses.every((r) => !r.error));
});

t.test('errors are answered in the stream, which carries on', async (t) => {
  const photo = readFace('groups/couple.jpg');
  const { responses, status } = await infer(server, [
    request({ correlation_id: 'unknown', task: 'face_recognize', payload: photo }),
    request({ correlation_id: 'garbage', payload: photo, meta: { detection_confidence_threshold: 'high' } }),
    request({ correlation_id: 'range', payload: photo, meta: { nms_threshold: '1.5' } }),
    request({ correlation_id: 'count', payload: photo, meta: { max_faces: 'ten' } }),
    request({ correlation_id: 'landmarks', task: 'face_embed', payload: photo, meta: { landmarks: '[{"x":1}]' } }),
    request({ correlation_id: 'image', payload: Buffer.from('not an image at all') }),
    request({ correlation_id: 'good', payload: photo }),
  ]);
  t.equal(status.code, grpc.status.OK, 'the stream ends OK');
  const by = new Map(responses.map((r) => [r.correlation_id, r]));
  t.equal(by.size, 7, 'every request answered');
  for (const id of ['unknown', 'garbage', 'range', 'count', 'landmarks', 'image']) {
    t.equal(by.get(id)?.error?.code, 'ERROR_CODE_INVALID_ARGUMENT', `${id}: INVALID_ARGUMENT`);
    t.equal(by.get(id)?.is_final, true);
  }
  t.match(by.get('unknown')?.error?.message, /face_detect_and_embed, face_detect, face_embed; received "face_recognize"/, 'names the tasks there are');
  t.match(by.get('garbage')?.error?.message, /meta "detection_confidence_threshold" is invalid: expected a decimal number from 0 to 1; received "high"/);
  t.match(by.get('range')?.error?.message, /nms_threshold.*received "1.5"/);
  t.match(by.get('count')?.error?.message, /max_faces.*received "ten"/);
  t.match(by.get('landmarks')?.error?.message, /landmarks.*five/);
  t.equal(by.get('image')?.error?.detail, 'UNSUPPORTED_IMAGE');
  t.notOk(by.get('good')?.error, 'the good request after them is served');
  t.equal((resultJson(by.get('good')!) as unknown as FaceV1).count, 2);
});

t.test('busy: with every in-flight slot taken (by HTTP or gRPC alike) the answer is UNAVAILABLE', async (t) => {
  const held: (() => void)[] = [];
  for (let release = server.app.tryImageSlot(); release; release = server.app.tryImageSlot()) held.push(release);
  t.equal(held.length, server.config.maxInflight, 'every slot is held');
  const busy = await one('face_detect_and_embed', readFace('groups/couple.jpg'));
  t.equal(busy.error?.code, 'ERROR_CODE_UNAVAILABLE');
  t.equal(busy.error?.detail, 'BUSY');
  for (const release of held) release();
  const served = await one('face_detect_and_embed', readFace('groups/couple.jpg'));
  t.notOk(served.error, 'served once a slot is free');
});

t.test('capabilities: the three tasks, their mimes and limits, the model', async (t) => {
  const capability = await unary<Capability>(server.inference, 'GetCapabilities', {});
  t.equal(capability.service_name, 'face-general');
  t.same(capability.model_ids, ['scrfd_2.5g_mbf']);
  t.equal(capability.runtime, 'onnxrt-cpu');
  t.same(capability.precisions, ['fp32']);
  t.equal(capability.max_concurrency, server.config.workers);
  t.same(capability.extra, {
    model_name: 'scrfd_2.5g_mbf',
    model_id: 'scrfd_2.5g_mbf',
    face_embedding_dim: String(DIM),
    supports_landmarks: 'true',
    server: capability.extra.server,
    device: 'cpu',
  });
  t.same(
    capability.tasks.map((task) => [task.name, task.output_mimes]),
    [
      ['face_detect_and_embed', ['application/json;schema=face_v1']],
      ['face_detect', ['application/json;schema=face_v1']],
      ['face_embed', ['application/json;schema=embedding_v1']],
    ],
  );
  for (const task of capability.tasks) {
    t.ok(task.input_mimes.includes('image/jpeg') && task.input_mimes.includes('image/png'));
    t.equal(task.limits.max_payload_bytes, String(server.config.maxUploadBytes));
    t.equal(task.limits.max_faces, String(server.config.maxFaces));
  }
  const streamed = await serverStream<Capability>(server.inference, 'StreamCapabilities');
  t.same(streamed, [capability], 'StreamCapabilities sends the same one');
});

t.test("Lumen's Health answers once the models are loaded", async (t) => {
  t.same(await unary(server.inference, 'Health', {}), {});
});

t.test('/v1/info reports gRPC on and its port', async (t) => {
  const res = await server.app.inject('/v1/info');
  t.same(res.json().grpc, { enabled: true, port: server.port });
});

t.test('API keys: required on every method but the probes when set', async (t) => {
  const keyed = await grpcServer(t, { backend, env: { LUMEN_FACE_API_KEYS: 'sesame,other' } });
  const photo = readFace('groups/couple.jpg');
  const none = await infer(keyed, [request({ payload: photo })]);
  t.equal(none.status.code, grpc.status.UNAUTHENTICATED, 'no key: UNAUTHENTICATED');
  t.match(none.status.details, /needs an API key.*x-api-key/);
  t.equal(none.responses.length, 0);
  const wrong = await infer(keyed, [request({ payload: photo })], keyMetadata({ 'x-api-key': 'guess' }));
  t.equal(wrong.status.code, grpc.status.UNAUTHENTICATED, 'a wrong key: UNAUTHENTICATED');
  t.match(wrong.status.details, /not valid/);
  for (const headers of [{ 'x-api-key': 'sesame' }, { authorization: 'Bearer other' }] as Record<string, string>[]) {
    const ok = await infer(keyed, [request({ payload: photo })], keyMetadata(headers));
    t.equal(ok.status.code, grpc.status.OK, `${Object.keys(headers)[0]}: served`);
    t.notOk(ok.responses[0].error);
  }
  await t.rejects(unary(keyed.inference, 'GetCapabilities', {}), { code: grpc.status.UNAUTHENTICATED });
  await t.rejects(serverStream(keyed.inference, 'StreamCapabilities'), { code: grpc.status.UNAUTHENTICATED });
  t.equal((await unary<Capability>(keyed.inference, 'GetCapabilities', {}, keyMetadata({ authorization: 'Bearer sesame' }))).service_name, 'face-general');
  t.same(await unary(keyed.inference, 'Health', {}), {}, "Lumen's Health needs no key");
  t.same(await unary(keyed.health, 'Check', { service: '' }), { status: 'SERVING' }, 'nor does grpc.health.v1');
  // Without keys (the main server of this file) every call is served without metadata: the tests above.
});
