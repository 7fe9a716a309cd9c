import type { IncomingMessage, ServerResponse } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { ERROR_CODES, LumenError } from '../src/errors.js';
import { toErrorBody } from './errors.js';
import { type LingerBounds, lingerInsteadOfDestroy, lingerThenClose } from '../server/linger.js';
import { jsonBodyLimit } from '../src/body-limits.js';

/**
 * Answers given before the body arrived (401, 400, 404, 405, 413, 421...). Such a connection cannot be
 * reused (the rest of the body would be read as the next request), so the answer says `Connection: close`
 * and is sent at once; the connection then ends in a lingering close (server/linger.ts): the server reads
 * and discards what the client still sends, within bounds, so a client that writes its whole body before
 * reading (Node's fetch, Python requests) gets the answer instead of a reset.
 *
 * `Expect: 100-continue`: Node would answer 100 Continue at once, inviting a body that may be refused.
 * Here the 100 is sent only when a reader starts on the body, so a refusal is the only answer.
 */

/** A silence this long during a lingering close ends it (nginx's `lingering_timeout` default). */
export const LINGER_IDLE_MS = 5000;

/** Discarded at most during a lingering close, unless an image route's body may be larger. */
export const LINGER_MIN_BYTES = 64 * 1024 * 1024;

/**
 * The bounds of a lingering close: at most LUMEN_FACE_REQUEST_TIMEOUT in all, 5 s of silence, and 64 MiB
 * discarded (or the largest body an image route would read, if larger): a refused photo of any size a
 * client would send is still read to its end, and a client that never stops is cut.
 */
export function lingerBounds(requestTimeoutSeconds: number, maxUploadBytes: number): LingerBounds {
  const maxMs = requestTimeoutSeconds * 1000;
  return { maxMs, idleMs: Math.min(LINGER_IDLE_MS, maxMs), maxBytes: Math.max(LINGER_MIN_BYTES, jsonBodyLimit(maxUploadBytes)) };
}

/**
 * What a multipart body may hold beside its image bytes (part headers, boundaries, a few text fields) before
 * a declared length is surely too large. Generous: a body under it is still bounded while it is read.
 */
const MULTIPART_SLACK_BYTES = 9 * 1024 * 1024;

export default fp<{ requestTimeoutSeconds: number; maxUploadBytes: number }>(async function earlyRefusalPlugin(app: FastifyInstance, opts) {
  const bounds = lingerBounds(opts.requestTimeoutSeconds, opts.maxUploadBytes);

  app.server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
    continueWhenRead(req, res);
    app.server.emit('request', req, res);
  });

  // Node answers any other expectation with an empty 417 and keeps the connection open.
  app.server.on('checkExpectation', (req: IncomingMessage, res: ServerResponse) => {
    const body = JSON.stringify(
      toErrorBody(417, 'EXPECTATION_FAILED', `Expect: ${String(req.headers.expect).slice(0, 64)} is not supported; only 100-continue is`),
    );
    res.writeHead(417, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
    if (req.socket instanceof Socket) lingerInsteadOfDestroy(req.socket, bounds);
    res.end(body);
  });

  // Node closes a CONNECT request without a word when nobody listens for it; this is no proxy.
  app.server.on('connect', (_req: IncomingMessage, socket: Socket) => {
    const status = ERROR_CODES.METHOD_NOT_ALLOWED.status;
    const body = JSON.stringify(toErrorBody(status, 'METHOD_NOT_ALLOWED', 'CONNECT is not allowed: this server is not a proxy'));
    socket.write(
      `HTTP/1.1 ${status} Method Not Allowed\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    lingerThenClose(socket, bounds);
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
    // A body cut for arriving too slowly (408) is not waited for: its client is the reason for the bound.
    if (reply.statusCode === 408) return;
    lingerInsteadOfDestroy(request.raw.socket, bounds);
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
