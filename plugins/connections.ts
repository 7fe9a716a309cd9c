import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';

/**
 * Slow clients and shutdown, per connection. Node's socket idle timeout does the timing: a request that
 * sends nothing for LUMEN_FACE_REQUEST_TIMEOUT seconds gets 408 through the error handler and its connection
 * is closed, which ends its body read and frees its image slot. A request whose body has arrived is never cut
 * while it is being worked on. (Node's requestTimeout and headersTimeout, set in app.ts, bound the rest.)
 */
export default fp<{ requestTimeoutSeconds: number }>(async function connectionsPlugin(app: FastifyInstance, opts) {
  const idleMs = opts.requestTimeoutSeconds * 1000;
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // A kept-alive connection would hold the shutdown open until its keep-alive timeout.
  app.addHook('onSend', async (_request, reply) => {
    if (closing) reply.header('connection', 'close');
  });

  app.addHook('onRequest', async (request, reply) => {
    const socket = request.raw.socket;
    // Node drops the idle timeout after a keep-alive response; arm it again for every request.
    // (app.inject's simulated socket has no timers, and no slow client behind it.)
    if (typeof socket.setTimeout === 'function') socket.setTimeout(idleMs);
    // Node emits 'timeout' on the request only while its body is incomplete.
    request.raw.on('timeout', () => onStall(request, reply, opts.requestTimeoutSeconds));
    // Listening on the response keeps Node from destroying the socket while the work runs; a client that
    // stops reading the answer is let go.
    reply.raw.on('timeout', () => {
      if (reply.raw.headersSent) socket.destroy();
    });
    if (closing) {
      reply.header('connection', 'close');
      throw new LumenError('SHUTTING_DOWN', 'the server is shutting down; retry on another instance');
    }
  });
});

const stalled = new WeakSet<FastifyRequest>();

function onStall(request: FastifyRequest, reply: FastifyReply, seconds: number) {
  const socket = request.raw.socket;
  if (reply.sent || reply.raw.headersSent || stalled.has(request)) {
    socket.destroy();
    return;
  }
  stalled.add(request);
  const err = new LumenError('REQUEST_TIMEOUT', `the request sent nothing for ${seconds} s (LUMEN_FACE_REQUEST_TIMEOUT)`);
  reply.header('connection', 'close');
  // The body's reader (multipart or a content-type parser) fails with the error and the route answers it,
  // so the slot is released on the usual path; with no reader, answer directly.
  if (request.raw.listenerCount('error') > 0) request.raw.emit('error', err);
  else void reply.send(err);
  // Should nothing answer, the next silent period closes the connection.
  socket.setTimeout(seconds * 1000);
}
