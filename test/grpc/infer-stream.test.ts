import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { backendFor, readFace, TEST_ENGINE } from '../helpers/fixtures.js';
import { chunked, conversation, grpcServer, infer, request, resultJson } from '../helpers/grpc.js';

const backend = await backendFor('scrfd_2.5g_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());

const couple = readFace('groups/couple.jpg');
const t1 = readFace('groups/t1.jpg');
const faces = (r: { result?: Buffer }) => (resultJson(r as never) as { faces: { bbox: number[] }[] }).faces.map((f) => f.bbox);

t.test('chunked payloads are reassembled, with correlation ids interleaved', async (t) => {
  const server = await grpcServer(t, { backend });
  const whole = await infer(server, [request({ correlation_id: 'a', payload: couple }), request({ correlation_id: 'b', payload: t1 })]);
  const a = chunked('a', couple, 5);
  const b = chunked('b', t1, 3);
  const interleaved = [a[0], b[0], a[1], a[2], b[1], a[3], b[2], a[4]];
  const { responses, status } = await infer(server, interleaved);
  t.equal(status.code, grpc.status.OK);
  t.same(responses.map((r) => r.correlation_id).sort(), ['a', 'b'], 'one answer per payload, once it is whole');
  for (const id of ['a', 'b']) {
    const got = responses.find((r) => r.correlation_id === id)!;
    t.notOk(got.error, `${id}: no error`);
    t.same(faces(got), faces(whole.responses.find((r) => r.correlation_id === id)!), `${id}: the faces of the payload sent whole`);
  }
});

t.test('bad input is answered in the stream, and the stream and server keep serving', async (t) => {
  const limit = 200_000;
  const server = await grpcServer(t, { backend, env: { LUMEN_FACE_MAX_UPLOAD_BYTES: String(limit), LUMEN_FACE_REQUEST_TIMEOUT: '1' } });
  const small = readFace('groups/t1.jpg');
  t.ok(small.length < limit && couple.length > limit, 'one photo within the limit, one above it');
  const talk = conversation(server);
  const served = async (what: string) => {
    talk.write(request({ correlation_id: 'ok', payload: small }));
    const answer = await talk.next();
    t.equal(answer.correlation_id, 'ok');
    t.notOk(answer.error, `served after ${what}`);
  };

  talk.write(request({ correlation_id: 'big', payload: Buffer.concat([small, Buffer.alloc(limit - small.length + 1)]) }));
  let answer = await talk.next();
  t.equal(answer.correlation_id, 'big');
  t.equal(answer.error?.code, 'ERROR_CODE_INVALID_ARGUMENT', 'an oversized payload: INVALID_ARGUMENT');
  t.equal(answer.error?.detail, 'UPLOAD_TOO_LARGE');
  t.match(answer.error?.message, new RegExp(`at most ${limit} bytes`));
  await served('an oversized payload');

  for (const chunk of chunked('big-chunks', couple, 8).slice(0, 4)) talk.write(chunk);
  answer = await talk.next();
  t.equal(answer.correlation_id, 'big-chunks');
  t.equal(answer.error?.detail, 'UPLOAD_TOO_LARGE', 'chunks adding up beyond the limit: refused as they pass it');
  await served('oversized chunks');

  talk.write({ correlation_id: 'huge', task: 'face_detect_and_embed', payload: small.subarray(0, 10), seq: 0, total: 1e9 });
  answer = await talk.next();
  t.equal(answer.correlation_id, 'huge');
  t.equal(answer.error?.code, 'ERROR_CODE_INVALID_ARGUMENT', 'a total of 10^9: INVALID_ARGUMENT');
  t.match(answer.error?.message, /total is invalid: expected at most \d+ chunks.*received 1000000000/);
  await served('a total of 10^9');

  talk.write(chunked('stalled', small, 4)[0]);
  answer = await talk.next();
  t.equal(answer.correlation_id, 'stalled');
  t.equal(answer.error?.code, 'ERROR_CODE_DEADLINE_EXCEEDED', 'chunks that never finish: DEADLINE_EXCEEDED after LUMEN_FACE_REQUEST_TIMEOUT');
  t.match(answer.error?.message, /chunk 1 of 4 for "stalled" did not arrive within 1 s/);
  await served('unfinished chunks');

  const parts = chunked('order', small, 3);
  talk.write(parts[0]);
  talk.write(parts[2]);
  answer = await talk.next();
  t.equal(answer.error?.code, 'ERROR_CODE_INVALID_ARGUMENT', 'a chunk out of order');
  t.match(answer.error?.message, /expected chunk 1 of "order".*received 2/);
  await served('a chunk out of order');

  talk.write(request({ correlation_id: 'task', task: 'face_swap', payload: small }));
  answer = await talk.next();
  t.equal(answer.error?.code, 'ERROR_CODE_INVALID_ARGUMENT', 'an unknown task');
  talk.write(request({ correlation_id: 'meta', payload: small, meta: { face_size_min: 'NaN' } }));
  answer = await talk.next();
  t.equal(answer.error?.code, 'ERROR_CODE_INVALID_ARGUMENT', 'bad meta');
  await served('an unknown task and bad meta');

  talk.write(chunked('left', small, 2)[0]);
  const status = talk.end();
  answer = await talk.next();
  t.equal(answer.correlation_id, 'left');
  t.equal(answer.error?.code, 'ERROR_CODE_INVALID_ARGUMENT', 'a payload unfinished when the client half-closes');
  t.match(answer.error?.message, /stream ended after chunk 0 of 2/);
  t.equal((await status).code, grpc.status.OK, 'the stream ends OK');

  const after = await infer(server, [request({ payload: small })]);
  t.notOk(after.responses[0].error, 'a new stream is served');
});

t.test('a message larger than gRPC takes ends that stream only', async (t) => {
  const limit = 100_000;
  const server = await grpcServer(t, { backend, env: { LUMEN_FACE_MAX_UPLOAD_BYTES: String(limit) } });
  const { status } = await infer(server, [request({ payload: Buffer.alloc(limit * 20) })]);
  t.equal(status.code, grpc.status.RESOURCE_EXHAUSTED, 'grpc-js refuses it before it is read');
  const after = await infer(server, [request({ payload: readFace('groups/voc_2008_001009.jpg') })]);
  t.equal(after.status.code, grpc.status.OK);
  t.notOk(after.responses[0].error, 'the server keeps serving');
});

t.test('a stream may hold only so many unfinished payloads', async (t) => {
  const server = await grpcServer(t, { backend });
  const talk = conversation(server);
  for (let i = 0; i < 16; i++) talk.write(chunked(`p${i}`, t1, 2)[0]);
  talk.write(chunked('one-too-many', t1, 2)[0]);
  const answer = await talk.next();
  t.equal(answer.correlation_id, 'one-too-many');
  t.equal(answer.error?.code, 'ERROR_CODE_UNAVAILABLE');
  t.match(answer.error?.message, /already has 16 chunked payloads unfinished/);
  talk.write(chunked('p0', t1, 2)[1]);
  const finished = await talk.next();
  t.equal(finished.correlation_id, 'p0');
  t.notOk(finished.error, 'the open ones can still finish');
  talk.call.cancel();
});

t.test("a cancelled stream's queued work is dropped", async (t) => {
  // One request at a time per stream, so the rest of the stream waits in its queue.
  const server = await grpcServer(t, { backend, env: { LUMEN_FACE_WORKERS: '1' } });
  const talk = conversation(server);
  const sent = 12;
  for (let i = 0; i < sent; i++) talk.write(request({ correlation_id: `q${i}`, payload: t1 }));
  const first = await talk.next();
  t.equal(first.correlation_id, 'q0');
  talk.call.cancel();
  t.equal((await talk.status).code, grpc.status.CANCELLED);
  // Another stream is served after whatever was running when the client cancelled.
  const after = await infer(server, [request({ correlation_id: 'after', payload: t1 })]);
  t.notOk(after.responses[0].error);
  const metrics = await server.app.inject('/metrics');
  const answered = [...metrics.body.matchAll(/^lumen_face_grpc_requests_total\{[^}]*\} (\d+)$/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
  t.ok(answered <= 3, `only the requests answered or running before the cancel ran, and the next stream's: ${answered} of ${sent + 1}`);
  // The request running at the cancel stops at its next model run; then every slot is free again.
  const freeSlots = () => {
    const held: (() => void)[] = [];
    for (let release = server.app.tryImageSlot(); release; release = server.app.tryImageSlot()) held.push(release);
    for (const release of held) release();
    return held.length;
  };
  while (freeSlots() < server.config.maxInflight) await new Promise((resolve) => setTimeout(resolve, 20));
  t.pass('the in-flight slots the dropped requests held are free again');
});
