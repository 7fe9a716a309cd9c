import multipart, { type MultipartFile } from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';
import { handOver } from '../src/pipeline/photo-pool.js';

export interface Upload {
  image: Buffer;
  fields: Record<string, string>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Read the multipart body: exactly one file part named "image" (or "file"), plus the allowed text fields. */
    readUpload(allowedFields: readonly string[]): Promise<Upload>;
    /** As readUpload, but the "image" part may be absent (immich's /predict: a CLIP text request has none). */
    readForm(allowedFields: readonly string[]): Promise<Partial<Upload> & Pick<Upload, 'fields'>>;
    /**
     * Read up to `maxImages` file parts named "image" (or "file"), with at most LUMEN_FACE_MAX_UPLOAD_BYTES
     * for the whole body, handing each one over as soon as it has arrived. Resolves with the count.
     */
    readImages(maxImages: number, onImage: (bytes: Buffer, index: number) => void): Promise<number>;
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
/** The name of the photo part; `file` is what CompreFace and InsightFace-REST clients send. */
export const IMAGE_PART_NAMES: readonly string[] = ['image', 'file'];

export const NOT_MULTIPART_MESSAGE = 'expected a multipart/form-data request with an "image" file part (curl -F image=@photo.jpg)';

export default fp<{ maxUploadBytes: number }>(async function multipartPlugin(app: FastifyInstance, opts) {
  await app.register(multipart, {
    fileHwm: PART_HIGH_WATER_MARK,
    limits: { fileSize: opts.maxUploadBytes, files: 1, fields: 8, parts: 10, fieldSize: MAX_FIELD_BYTES, headerPairs: 100 },
  });

  app.decorateRequest('readUpload', async function readUpload(this: FastifyRequest, allowedFields: readonly string[]): Promise<Upload> {
    return parsing(this, () => collect(this, allowedFields));
  });

  app.decorateRequest('readForm', async function readForm(this: FastifyRequest, allowedFields: readonly string[]) {
    return parsing(this, () => collect(this, allowedFields, false));
  });

  app.decorateRequest('readImages', async function readImages(this: FastifyRequest, maxImages: number, onImage: (bytes: Buffer, index: number) => void): Promise<number> {
    return parsing(this, () => collectImages(this, maxImages, opts.maxUploadBytes, onImage));
  });
});

async function parsing<T>(request: FastifyRequest, read: () => Promise<T>): Promise<T> {
  if (!request.isMultipart()) {
    throw new LumenError('NOT_MULTIPART', NOT_MULTIPART_MESSAGE);
  }
  try {
    return await read();
  } catch (err) {
    const status = (err as { statusCode?: number }).statusCode;
    if (err instanceof LumenError || (status !== undefined && status >= 400 && status < 500)) throw err;
    // busboy reports a malformed or truncated body as a plain Error.
    throw new LumenError('MALFORMED_MULTIPART', `the multipart body could not be parsed: ${(err as Error).message}`);
  }
}

const quotedList = (names: readonly string[]) => names.map((f) => `"${f}"`).join(', ');

/** The rules every text part follows: not the photo, a name the endpoint accepts, given once. */
function checkField(part: { fieldname: string }, allowedFields: readonly string[], fields: Record<string, string>): void {
  if (IMAGE_PART_NAMES.includes(part.fieldname)) {
    throw new LumenError('MISSING_IMAGE', `"${part.fieldname}" was sent as a text field; it must be a file part (curl -F ${part.fieldname}=@photo.jpg)`);
  }
  if (!allowedFields.includes(part.fieldname)) {
    throw new LumenError('UNEXPECTED_FIELD', `unexpected field "${part.fieldname}"; this endpoint accepts ${quotedList([...IMAGE_PART_NAMES, ...allowedFields])}`);
  }
  if (part.fieldname in fields) {
    throw new LumenError('DUPLICATE_FIELD', `field "${part.fieldname}" is given twice; send it once`);
  }
}

function checkFilePart(part: MultipartFile): void {
  if (!IMAGE_PART_NAMES.includes(part.fieldname)) {
    part.file.resume();
    throw new LumenError('UNEXPECTED_FILE', `unexpected file part "${part.fieldname}"; send the photo as "image" (or "file")`);
  }
}

async function collect(request: FastifyRequest, allowedFields: readonly string[]): Promise<Upload>;
async function collect(request: FastifyRequest, allowedFields: readonly string[], imageRequired: false): Promise<Partial<Upload> & Pick<Upload, 'fields'>>;
async function collect(request: FastifyRequest, allowedFields: readonly string[], imageRequired = true): Promise<Partial<Upload> & Pick<Upload, 'fields'>> {
  try {
    return await collectParts(request, allowedFields, imageRequired);
  } catch (err) {
    if ((err as { code?: string }).code === 'FST_FILES_LIMIT') {
      throw new LumenError('TOO_MANY_FILES', 'send exactly one file part, named "image" (or "file"); for many photos use the /batch routes');
    }
    throw err;
  }
}

async function collectParts(request: FastifyRequest, allowedFields: readonly string[], imageRequired: boolean): Promise<Partial<Upload> & Pick<Upload, 'fields'>> {
  let image: Buffer | undefined;
  const fields: Record<string, string> = {};
  for await (const part of request.parts()) {
    if (part.type === 'file') {
      checkFilePart(part);
      image = handOver(await part.toBuffer());
    } else {
      checkField(part, allowedFields, fields);
      if (part.valueTruncated) {
        throw new LumenError('FIELD_TOO_LARGE', `field "${part.fieldname}" is larger than ${MAX_FIELD_BYTES} bytes`);
      }
      fields[part.fieldname] = String(part.value);
    }
  }
  if (!image && !imageRequired) return { fields };
  if (!image) throw new LumenError('MISSING_IMAGE', 'the multipart body has no "image" file part (curl -F image=@photo.jpg)');
  if (image.length === 0) throw new LumenError('EMPTY_IMAGE', 'the "image" part is empty');
  return { image, fields };
}

async function collectImages(
  request: FastifyRequest,
  maxImages: number,
  maxBytes: number,
  onImage: (bytes: Buffer, index: number) => void,
): Promise<number> {
  let count = 0;
  let bytes = 0;
  const tooMany = () => new LumenError('TOO_MANY_FILES', `send at most ${maxImages} image parts in one batch (LUMEN_FACE_MAX_IMAGES)`);
  // busboy raises filesLimit when part maxImages + 1 opens, so an oversized batch stops there.
  const parts = request.parts({ limits: { files: maxImages, parts: maxImages + 8 } });
  try {
    for await (const part of parts) {
      if (part.type !== 'file') {
        checkField(part, [], {});
        continue;
      }
      checkFilePart(part);
      const chunks: Buffer[] = [];
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > maxBytes) {
          throw new LumenError('UPLOAD_TOO_LARGE', `the batch is larger than ${maxBytes} bytes (LUMEN_FACE_MAX_UPLOAD_BYTES applies to the whole request)`);
        }
        chunks.push(chunk);
      }
      onImage(handOver(Buffer.concat(chunks)), count++);
    }
  } catch (err) {
    if ((err as { code?: string }).code === 'FST_FILES_LIMIT') throw tooMany();
    throw err;
  }
  if (count === 0) throw new LumenError('MISSING_IMAGE', 'the multipart body has no "image" file part (curl -F image=@a.jpg -F image=@b.jpg)');
  return count;
}
