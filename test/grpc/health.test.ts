import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { backendFor, TEST_ENGINE } from '../helpers/fixtures.js';
import { grpcServer, unary } from '../helpers/grpc.js';

const backend = await backendFor('scrfd_2.5g_mbf', 'fp32', TEST_ENGINE);
t.teardown(() => backend.close());

t.test('grpc.health.v1: SERVING once the models are loaded, for the server and for the inference service', async (t) => {
  const server = await grpcServer(t, { backend, env: { LUMEN_FACE_API_KEYS: 'sesame' } });
  t.same(await unary(server.health, 'Check', { service: '' }), { status: 'SERVING' }, 'no key needed, as for the HTTP probes');
  t.same(await unary(server.health, 'Check', { service: 'home_native.v1.Inference' }), { status: 'SERVING' });
  await t.rejects(unary(server.health, 'Check', { service: 'other.Service' }), { code: grpc.status.NOT_FOUND, details: /unknown service "other.Service"/ });
  const watched = await new Promise<unknown>((resolve) => {
    const call = (server.health.Watch as unknown as (m: object) => grpc.ClientReadableStream<unknown>).call(server.health, { service: '' });
    call.on('data', (status) => {
      resolve(status);
      call.cancel();
    });
    call.on('error', () => undefined);
  });
  t.same(watched, { status: 'SERVING' }, 'Watch sends the status first');
});

t.test("NOT_SERVING, and Lumen's Health and the inference calls UNAVAILABLE, when the models did not load", async (t) => {
  const server = await grpcServer(t, { backend: undefined as never, env: { LUMEN_FACE_LOCAL_DIR: '/nonexistent', LUMEN_FACE_OFFLINE: '1' } });
  await server.app.faceBackend.loaded.catch(() => undefined);
  t.same(await unary(server.health, 'Check', { service: '' }), { status: 'NOT_SERVING' });
  await t.rejects(unary(server.inference, 'Health', {}), { code: grpc.status.UNAVAILABLE });
  await t.rejects(unary(server.inference, 'GetCapabilities', {}), { code: grpc.status.UNAVAILABLE, details: /models failed to load/ });
});
