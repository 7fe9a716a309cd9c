import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';

/**
 * Answers given before the body arrived (503 BUSY, 413, 401, 400, 421...). Such a connection cannot be
 * reused (the rest of the body would be read as the next request), and keeping it open waiting for a body
 * nobody will read holds a socket and a descriptor for minutes. So the answer says `Connection: close`, and
 * the socket is closed once it is sent. Closing at once would make the kernel reset a connection whose
 * client is still writing, and the client would see ECONNRESET instead of the answer; so the server ends
 * its side, reads and drops what still arrives for a short while (a lingering close), then lets go.
 *
 * `Expect: 100-continue`: Node would answer 100 Continue at once, inviting a body that may be refused.
 * Here the 100 is sent only when a reader starts on the body, so a refusal is the only answer.
 */

/** How long a refused client may keep writing after the answer: enough for it to read the answer. */
export const LINGER_MS = 2000;

/**
 * What a multipart body may hold beside its image bytes (part headers, boundaries, a few text fields) before
 * a declared length is surely too large. Generous: a body under it is still bounded while it is read.
 */
const MULTIPART_SLACK_BYTES = 9 * 1024 * 1024;

export default fp<{ requestTimeoutSeconds: number; maxUploadBytes: number }>(async function earlyRefusalPlugin(app: FastifyInstance, opts) {
  const lingerMs = Math.min(LINGER_MS, opts.requestTimeoutSeconds * 1000);

  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    continueWhenRead(req, res);
    app.server.emit('request', req, res);
  });

  // HTTP/1.1 requires Host (RFC 9112 §3.2); Node's own refusal of it has an empty body.
  app.addHook('onRequest', async (request) => {
    if (request.raw.httpVersion === '1.1' && request.headers.host === undefined) {
      throw new LumenError('BAD_REQUEST', 'an HTTP/1.1 request needs a Host header');
    }
  });

  // A declared length that cannot fit is refused before a byte of the body is read (after auth and routing).
  app.addHook('preHandler', async (request) => {
    const declared = Number(request.headers['content-length']);
    if (request.isMultipart() && declared > opts.maxUploadBytes + MULTIPART_SLACK_BYTES) {
      throw new LumenError('UPLOAD_TOO_LARGE', `the request declares ${declared} bytes, more than LUMEN_FACE_MAX_UPLOAD_BYTES (${opts.maxUploadBytes}) allows`);
    }
  });

  app.addHook('onSend', async (request, reply) => {
    // Only a real connection lingers: an injected request (app.inject) has no socket to close.
    if (request.raw.complete || !(request.raw.socket instanceof Socket)) return;
    reply.header('connection', 'close');
    const socket = request.raw.socket;
    reply.raw.once('finish', () => lingerThenClose(socket, lingerMs));
  });
});

function continueWhenRead(req: IncomingMessage, res: ServerResponse): void {
  const stream = req as IncomingMessage & { _read(size: number): void };
  const read = stream._read;
  stream._read = function readAfterContinue(size: number) {
    stream._read = read;
    if (!res.headersSent) res.writeContinue();
    read.call(this, size);
  };
}

function lingerThenClose(socket: Socket, lingerMs: number): void {
  if (socket.destroyed) return;
  // Node ends its side after a `Connection: close` answer; drop whatever the client still sends.
  socket.end();
  socket.on('data', () => undefined);
  socket.resume();
  const timer = setTimeout(() => socket.destroy(), lingerMs);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
