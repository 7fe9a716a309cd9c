import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import t from 'tap';
import { backendFor, FACES_DIR, REPO_ROOT, TEST_ENGINE } from '../helpers/fixtures.js';
import { grpcServer } from '../helpers/grpc.js';

/**
 * Another implementation on the other end: Python's grpcio (Debian's python3-grpcio, installed by
 * .ci/run) with Lumen's messages described field by field in the client, not read from our .proto.
 */

const PYTHON = '/usr/bin/python3';
const CLIENT = join(REPO_ROOT, 'test/grpc/fixtures/lumen_client.py');

const backend = await backendFor('scrfd_2.5g_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());

t.test('a Python grpcio client gets capabilities, whole and chunked answers, and an error in the stream', async (t) => {
  const server = await grpcServer(t, { backend });
  const { stdout } = await promisify(execFile)(PYTHON, [CLIENT, `127.0.0.1:${server.port}`, join(FACES_DIR, 'groups/couple.jpg')]);
  const { capability, answers } = JSON.parse(stdout);
  t.equal(capability.service_name, 'face-general');
  t.same(capability.model_ids, ['scrfd_2.5g_mbf']);
  t.same(capability.tasks, ['face_detect_and_embed', 'face_detect', 'face_embed']);
  t.equal(capability.extra.face_embedding_dim, String(backend.info().model.dim));
  const by = Object.fromEntries(answers.map((a: { correlation_id: string }) => [a.correlation_id, a]));
  t.same(Object.keys(by).sort(), ['chunked', 'unknown', 'whole']);
  for (const id of ['whole', 'chunked']) {
    t.equal(by[id].is_final, true);
    t.equal(by[id].error, null, `${id}: no error`);
    t.equal(by[id].result_mime, 'application/json;schema=face_v1');
    t.equal(by[id].result.count, 2, `${id}: the two faces`);
    t.equal(by[id].meta.face_count, '2');
    t.equal(by[id].result.faces[0].embedding.length, backend.info().model.dim);
  }
  t.same(
    by.chunked.result.faces.map((f: { bbox: number[] }) => f.bbox),
    by.whole.result.faces.map((f: { bbox: number[] }) => f.bbox),
    'chunks give the same faces',
  );
  t.equal(by.unknown.error.code, 1, 'ERROR_CODE_INVALID_ARGUMENT on the wire');
  t.match(by.unknown.error.message, /face_detect_and_embed, face_detect, face_embed/);
});
