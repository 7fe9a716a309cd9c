import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Socket } from 'node:net';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';
import { capConnections } from '../server/connection-cap.js';

/**
 * Slow clients and shutdown, per connection. Node's socket idle timeout does the timing: a request that
 * sends nothing for LUMEN_FACE_REQUEST_TIMEOUT seconds gets 408 through the error handler and its connection
 * is closed, which ends its body read and frees its image slot. A request whose body has arrived is never cut
 * while it is being worked on. (Node's requestTimeout and headersTimeout, set in app.ts, bound the rest.)
 */
export interface ConnectionsOptions {
  requestTimeoutSeconds: number;
  /** Bytes per second a body must average once `minUploadGraceSeconds` have passed (0: no such rule). */
  minUploadRate: number;
  minUploadGraceSeconds: number;
  maxConnections: number;
}

export default fp<ConnectionsOptions>(async function connectionsPlugin(app: FastifyInstance, opts) {
  const idleMs = opts.requestTimeoutSeconds * 1000;
  capConnections(app.server, opts.maxConnections, (why) =>
    app.log.debug({ why, maxConnections: opts.maxConnections }, 'connection over LUMEN_FACE_MAX_CONNECTIONS'),
  );
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
    request.raw.on('timeout', () =>
      cut(
        request,
        reply,
        opts.requestTimeoutSeconds,
        new LumenError('REQUEST_TIMEOUT', `the request sent nothing for ${opts.requestTimeoutSeconds} s (LUMEN_FACE_REQUEST_TIMEOUT)`),
      ),
    );
    if (opts.minUploadRate > 0) watchUploadRate(request, reply, opts);
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

/**
 * A body trickling in (a byte a second never trips the idle timeout) is cut once the grace period has
 * passed and its average rate is below the minimum, as Apache's mod_reqtimeout does (20 s, then 500 bytes/s).
 */
function watchUploadRate(request: FastifyRequest, reply: FastifyReply, opts: ConnectionsOptions): void {
  const req = request.raw;
  const socket = req.socket;
  // app.inject's simulated socket counts no bytes, and has no slow client behind it.
  if (!(socket instanceof Socket)) return;
  if (req.complete || (req.headers['content-length'] === undefined && req.headers['transfer-encoding'] === undefined)) return;
  const startBytes = socket.bytesRead;
  const started = performance.now();
  const timer = setInterval(() => {
    if (req.complete || reply.sent || socket.destroyed) {
      clearInterval(timer);
      return;
    }
    const seconds = (performance.now() - started) / 1000;
    if (seconds < opts.minUploadGraceSeconds) return;
    const rate = (socket.bytesRead - startBytes) / seconds;
    if (rate >= opts.minUploadRate) return;
    clearInterval(timer);
    cut(
      request,
      reply,
      opts.requestTimeoutSeconds,
      new LumenError(
        'REQUEST_TIMEOUT',
        `the body arrived at ${rate.toFixed(0)} bytes/s, slower than LUMEN_FACE_MIN_UPLOAD_RATE (${opts.minUploadRate} bytes/s) allows after ${opts.minUploadGraceSeconds} s`,
      ),
    );
  }, 1000);
  timer.unref();
  reply.raw.once('close', () => clearInterval(timer));
}

/** Answer a request whose body stalled with `err` (408), ending its body read; then close. */
function cut(request: FastifyRequest, reply: FastifyReply, seconds: number, err: LumenError) {
  const socket = request.raw.socket;
  if (reply.sent || reply.raw.headersSent || stalled.has(request)) {
    socket.destroy();
    return;
  }
  stalled.add(request);
  reply.header('connection', 'close');
  // The body's reader (multipart or a content-type parser) fails with the error and the route answers it,
  // so the slot is released on the usual path; with no reader, answer directly.
  if (request.raw.listenerCount('error') > 0) request.raw.emit('error', err);
  else void reply.send(err);
  // Should nothing answer, the next silent period closes the connection.
  socket.setTimeout(seconds * 1000);
}
