import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';

export interface Upload {
  image: Buffer;
  fields: Record<string, string>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Read the multipart body: exactly one file part named "image", plus the allowed text fields. */
    readUpload(allowedFields: readonly string[]): Promise<Upload>;
  }
}

const MAX_FIELD_BYTES = 1024 * 1024;

/**
 * busboy skips a part with no Content-Disposition, and stalls for good when one read of it fills the
 * part's buffer up to the high-water mark (16 KiB by default): the request would hang holding its slot.
 * Above the largest socket read (64 KiB) a skipped part never fills it, so the body ends and the
 * route answers MISSING_IMAGE.
 */
const PART_HIGH_WATER_MARK = 1024 * 1024;

export const NOT_MULTIPART_MESSAGE = 'expected a multipart/form-data request with an "image" file part (curl -F image=@photo.jpg)';

export default fp<{ maxUploadBytes: number }>(async function multipartPlugin(app: FastifyInstance, opts) {
  await app.register(multipart, {
    fileHwm: PART_HIGH_WATER_MARK,
    limits: { fileSize: opts.maxUploadBytes, files: 1, fields: 8, parts: 10, fieldSize: MAX_FIELD_BYTES, headerPairs: 100 },
  });

  app.decorateRequest('readUpload', async function readUpload(this: FastifyRequest, allowedFields: readonly string[]): Promise<Upload> {
    if (!this.isMultipart()) {
      throw new LumenError('NOT_MULTIPART', NOT_MULTIPART_MESSAGE);
    }
    try {
      return await collect(this, allowedFields);
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (err instanceof LumenError || (status !== undefined && status >= 400 && status < 500)) throw err;
      // busboy reports a malformed or truncated body as a plain Error.
      throw new LumenError('MALFORMED_MULTIPART', `the multipart body could not be parsed: ${(err as Error).message}`);
    }
  });
});

async function collect(request: FastifyRequest, allowedFields: readonly string[]): Promise<Upload> {
  let image: Buffer | undefined;
  const fields: Record<string, string> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      if (part.fieldname !== 'image') {
        part.file.resume();
        throw new LumenError('UNEXPECTED_FILE', `unexpected file part "${part.fieldname}"; send the photo as "image"`);
      }
      image = await part.toBuffer();
    } else {
      if (!allowedFields.includes(part.fieldname)) {
        const allowed = ['image', ...allowedFields].map((f) => `"${f}"`).join(', ');
        throw new LumenError('UNEXPECTED_FIELD', `unexpected field "${part.fieldname}"; this endpoint accepts ${allowed}`);
      }
      if (part.valueTruncated) {
        throw new LumenError('FIELD_TOO_LARGE', `field "${part.fieldname}" is larger than ${MAX_FIELD_BYTES} bytes`);
      }
      fields[part.fieldname] = String(part.value);
    }
  }
  if (!image) throw new LumenError('MISSING_IMAGE', 'the multipart body has no "image" file part (curl -F image=@photo.jpg)');
  if (image.length === 0) throw new LumenError('EMPTY_IMAGE', 'the "image" part is empty');
  return { image, fields };
}
