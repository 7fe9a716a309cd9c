import type { FastifyError, FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { STATUS_CODES } from 'node:http';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { LumenError } from '../src/errors.js';

/** Maps every error to `{statusCode, code, error, message}`; 5xx details are logged, never sent. */

const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_REQ_FILE_TOO_LARGE: { status: 413, code: 'UPLOAD_TOO_LARGE' },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'UPLOAD_TOO_LARGE' },
  FST_PARTS_LIMIT: { status: 413, code: 'TOO_MANY_PARTS' },
  FST_FILES_LIMIT: { status: 400, code: 'TOO_MANY_FILES', message: 'send exactly one file part, named "image"' },
  FST_FIELDS_LIMIT: { status: 400, code: 'TOO_MANY_FIELDS' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: {
    status: 415,
    code: 'NOT_MULTIPART',
    message: 'expected a multipart/form-data request with an "image" file part (curl -F image=@photo.jpg)',
  },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'NOT_MULTIPART',
    message: 'expected a multipart/form-data request with an "image" file part (curl -F image=@photo.jpg)',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'EMPTY_BODY' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_CONTENT_LENGTH' },
};

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
      reply.headers(err.headers);
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
      status = mapped.status;
      code = mapped.code;
      message = mapped.message ?? err.message;
    } else if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      status = err.statusCode;
      code = err.code ?? 'BAD_REQUEST';
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
