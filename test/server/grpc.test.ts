import * as grpc from '@grpc/grpc-js';
import t from 'tap';
import { readFace } from '../helpers/fixtures.js';
import { conversation, grpcClients, request, unary } from '../helpers/grpc.js';
import { startChild } from '../helpers/server-child.js';

/** The real server process: gRPC starts with it when LUMEN_FACE_GRPC_PORT is set, and drains with it. */

const grpcPortOf = (output: string) => Number(/"port":(\d+),"msg":"gRPC/.exec(output)?.[1]);

t.test('off unless LUMEN_FACE_GRPC_PORT is set; /v1/info says which', async (t) => {
  const server = await startChild();
  t.teardown(() => server.stop());
  t.notMatch(server.output(), /"msg":"gRPC/);
  const info = await (await fetch(`${server.address}/v1/info`)).json();
  t.same(info.grpc, { enabled: false, port: null });
});

t.test('on with LUMEN_FACE_GRPC_PORT; SIGTERM lets a request in progress finish, then exits 0', async (t) => {
  const server = await startChild({ LUMEN_FACE_GRPC_PORT: '0' });
  t.teardown(() => server.stop());
  const port = grpcPortOf(server.output());
  t.ok(port > 0, `gRPC listens (port ${port})`);
  const info = await (await fetch(`${server.address}/v1/info`)).json();
  t.same(info.grpc, { enabled: true, port });
  const clients = grpcClients(port);
  t.teardown(() => {
    clients.inference.close();
    clients.health.close();
  });
  t.same(await unary(clients.health, 'Check', { service: '' }), { status: 'SERVING' });

  const talk = conversation(clients);
  const photo = readFace('groups/t1.jpg');
  // A first answer proves the stream is open on the server before the signal comes.
  talk.write(request({ correlation_id: 'first', payload: photo }));
  t.notOk((await talk.next()).error);
  talk.write(request({ correlation_id: 'draining', payload: photo }));
  server.child.kill('SIGTERM');
  const answer = await talk.next();
  t.equal(answer.correlation_id, 'draining');
  t.notOk(answer.error, 'the request in progress is answered');
  t.equal((await talk.end()).code, grpc.status.OK);
  t.same(await server.exited, { code: 0, signal: null }, 'then the process exits 0');
  t.match(server.output(), /shutting down/);
});
