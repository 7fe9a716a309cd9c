import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ERROR_CODES, LumenError, type ErrorCode } from '../src/errors.js';
import { NOT_MULTIPART_MESSAGE } from './multipart.js';

/** Maps every error to `{statusCode, code, error, message}`; 5xx details are logged, never sent. */

const FASTIFY_CODES: Record<string, { code: ErrorCode; message?: string }> = {
  FST_REQ_FILE_TOO_LARGE: { code: 'UPLOAD_TOO_LARGE' },
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'UPLOAD_TOO_LARGE' },
  FST_PARTS_LIMIT: { code: 'TOO_MANY_PARTS' },
  FST_FILES_LIMIT: { code: 'TOO_MANY_FILES', message: 'send exactly one file part, named "image"' },
  FST_FIELDS_LIMIT: { code: 'TOO_MANY_FIELDS' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'NOT_MULTIPART', message: NOT_MULTIPART_MESSAGE },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { code: 'NOT_MULTIPART', message: NOT_MULTIPART_MESSAGE },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'EMPTY_BODY' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { code: 'INVALID_CONTENT_LENGTH' },
};

/** Seconds a client should wait before retrying, for the errors that are worth retrying. */
const RETRY_AFTER_SECONDS: Partial<Record<ErrorCode, number>> = { BUSY: 1 };

export function toErrorBody(statusCode: number, code: string, message: string) {
  return { statusCode, code, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

export default fp(async function errorHandler(app: FastifyInstance) {
  // Every answer names its request, so a client can quote it when reporting a 500.
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });

  app.setErrorHandler((err: FastifyError | LumenError, request, reply) => {
    let status: number;
    let code: string;
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
          const name = issue.instancePath.replace(/^\//, '').replace(/\//g, '.') || part;
          return `${part} parameter "${name}" is invalid: ${issue.message}`;
        })
        .join('; ');
    } else if (err.code && FASTIFY_CODES[err.code]) {
      const mapped = FASTIFY_CODES[err.code];
      status = ERROR_CODES[mapped.code].status;
      code = mapped.code;
      message = mapped.message ?? err.message;
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      // Only codes of the table: the documents promise them, and the response schemas enforce them.
      code = err.code in ERROR_CODES ? err.code : 'BAD_REQUEST';
    } else {
      status = 500;
      code = 'INTERNAL_ERROR';
    }
    if (status >= 500) {
      request.log.error({ err }, 'request failed');
      if (!(err instanceof LumenError)) message = `internal error; quote request id ${request.id} when reporting it`;
    }
    reply.status(status).send(toErrorBody(status, code, message));
  });

  app.setNotFoundHandler((request, reply) => {
    reply.status(404).send(toErrorBody(404, 'NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}; see /docs`));
  });
});
