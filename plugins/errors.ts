import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ERROR_CODES, LumenError, type ErrorCode } from '../src/errors.js';
import { isLingering, type LingerBounds, lingerThenClose } from '../server/linger.js';
import { multipartError, NOT_MULTIPART_MESSAGE } from './body.js';

/** Maps every error to `{statusCode, code, error, message}`; 5xx details are logged, never sent. */

const FASTIFY_CODES: Record<string, { code: ErrorCode; message?: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'UPLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'NOT_MULTIPART', message: NOT_MULTIPART_MESSAGE },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'EMPTY_BODY' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'INVALID_CONTENT_LENGTH' },
};

/** The code for a 4xx that names none of ours: only codes of the table ever reach a client. */
const CODE_BY_STATUS: Partial<Record<number, ErrorCode>> = {
  404: 'NOT_FOUND',
  408: 'REQUEST_TIMEOUT',
  413: 'UPLOAD_TOO_LARGE',
  415: 'NOT_MULTIPART',
  431: 'HEADERS_TOO_LARGE',
};

/** 503s that turn a request away before any work: logged as refusals, not as failures. */
const REFUSALS: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['BUSY', 'NOT_READY', 'SHUTTING_DOWN', 'BUDGET_EXCEEDED']);

/** Failures of a server the client named or that we forward to: theirs, not ours; one warn line, no stack. */
const UPSTREAM_FAILURES: ReadonlySet<ErrorCode> = new Set<ErrorCode>(['URL_FETCH_FAILED', 'UPSTREAM_FAILED', 'UPSTREAM_TIMEOUT']);

/** Seconds a client should wait before retrying, for the errors that are worth retrying. */
const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = { BUSY: 1 };

export function toErrorBody(statusCode: number, code: ErrorCode, message: string) {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

export default fp(async function errorHandler(app: FastifyInstance) {
  // Every answer names its request, so a client can quote it when reporting a 500.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.setErrorHandler((err: FastifyError | LumenError, request, reply) => {
    let status: number;
    let code: ErrorCode;
    let message = err.message;
    if (err instanceof LumenError) {
      status = err.status;
      code = err.code;
      const retryAfter = RETRY_AFTER_SECONDS[err.code];
      if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    } else if (hasZodFastifySchemaValidationErrors(err)) {
      status = 400;
      code = 'INVALID_PARAMETER';
      const part = (err as { validationContext?: string }).validationContext ?? 'request';
      message = err.validation
        .map((issue) => {
          const unknown = /^Unrecognized keys?: (.*)$/.exec(issue.message ?? '');
          if (unknown?.[1]) return `unknown ${part === 'querystring' ? 'query' : part} parameter ${unknown[1]}; this route accepts none by that name`;
          const name = issue.instancePath.replace(/^\//, '').replace(/\//g, '.') || part;
          return `${part} parameter "${name}" is invalid: ${issue.message}`;
        })
        .join('; ');
    } else if (multipartError(err)) {
      // Multipart errors met outside readParts (which maps them itself) get the same mapping.
      const mapped = multipartError(err)!;
      status = mapped.status;
      code = mapped.code;
      message = mapped.message;
    } else if (err.code && FASTIFY_CODES[err.code]) {
      const mapped = FASTIFY_CODES[err.code];
      status = ERROR_CODES[mapped.code].status;
      code = mapped.code;
      message = mapped.message ?? err.message;
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      // Only codes of the table: the documents promise them, and the response schemas enforce them.
      code = err.code in ERROR_CODES ? (err.code as ErrorCode) : (CODE_BY_STATUS[err.statusCode] ?? 'BAD_REQUEST');
      status = ERROR_CODES[code].status;
    } else {
      status = 500;
      code = 'INTERNAL_ERROR';
    }
    if (request.abandoned) {
      // Its one line is written already (the client went away, or the shutdown's line of what it cut).
    } else if (err instanceof LumenError && REFUSALS.has(err.code)) {
      // A refusal is the service working as designed: one short line, no stack, however many arrive.
      request.log.warn({ code: err.code, status }, `refused: ${err.message}`);
    } else if (err instanceof LumenError && UPSTREAM_FAILURES.has(err.code)) {
      request.log.warn({ code: err.code, status }, `upstream failed: ${err.message}`);
    } else if (status >= 500) {
      request.log.error({ err }, 'request failed');
      if (!(err instanceof LumenError)) message = `internal error; quote request id ${request.id} when reporting it`;
    } else if (err instanceof LumenError && err.cause instanceof Error) {
      // The library's own words (a libvips message) are for the operator, not the client.
      request.log.info({ code: err.code, detail: err.cause.message }, 'request refused');
    }
    reply.status(status).send(toErrorBody(status, code, message));
  });

  // What no route answers (404, or 405 on a known path) is plugins/method-not-allowed.ts.
});

/**
 * Fastify's `frameworkErrors`: errors met before routing (a malformed URL encoding), in the one shape.
 * The x-request-id header is set here because the onRequest hooks have not run.
 */
export function frameworkErrors(err: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const failed = (err.statusCode ?? 500) >= 500;
  const code: ErrorCode = failed ? 'INTERNAL_ERROR' : (CODE_BY_STATUS[err.statusCode as number] ?? 'BAD_REQUEST');
  const status = ERROR_CODES[code].status;
  if (failed) request.log.error({ err }, 'request failed before routing');
  const message = failed ? `internal error; quote request id ${request.id} when reporting it` : err.message;
  reply
    .header('x-request-id', request.id)
    .status(status)
    .send(toErrorBody(status, code, message));
}

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser rejects (a bad chunk size, oversized headers) and
 * Node's own request timeouts, answered in the one shape on the raw socket, which then ends in a lingering
 * close: a client still writing its body (a 20 KB header comes before it) reads the answer, not a reset.
 */
export function clientErrorHandler(timeouts: { requestSeconds: number; uploadSeconds: number }, linger: LingerBounds) {
  return function onClientError(this: FastifyInstance, err: NodeJS.ErrnoException & { reason?: string }, socket: Socket) {
    if (err.code === 'ECONNRESET' || socket.destroyed || isLingering(socket)) return;
    let code: ErrorCode = 'BAD_REQUEST';
    let message = `the HTTP request is malformed: ${err.reason ?? err.message}`;
    if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') {
      code = 'REQUEST_TIMEOUT';
      message = `the request did not arrive in time: headers within ${timeouts.requestSeconds} s (LUMEN_FACE_REQUEST_TIMEOUT), the whole request within ${timeouts.uploadSeconds} s (LUMEN_FACE_UPLOAD_TIMEOUT)`;
    } else if (err.code === 'HPE_HEADER_OVERFLOW') {
      code = 'HEADERS_TOO_LARGE';
      message = 'the request line and headers are larger than 16 KiB';
    }
    // Never the error itself: Node attaches the raw request (`rawPacket`), API key included.
    this.log.debug({ code: err.code, reason: err.reason }, 'client error');
    // Answer only when no response to this connection has started, or the bytes would corrupt it.
    const response = (socket as Socket & { _httpMessage?: { headersSent: boolean } | null })._httpMessage;
    if (!socket.writable || response?.headersSent) {
      socket.destroy(err);
      return;
    }
    const status = ERROR_CODES[code].status;
    const body = JSON.stringify(toErrorBody(status, code, message));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json; charset=utf-8\r\n` +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    lingerThenClose(socket, linger);
  };
}
