import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError, type ErrorCode } from '../src/errors.js';
import type { HandedOverBytes } from '../src/index.js';
import { jsonBodyLimit } from '../src/body-limits.js';
import { decodeBase64Image } from '../src/image/base64.js';
import type { FetchImageOptions } from '../src/fetch/fetch-image.js';
import { fetchImage } from '../src/fetch/fetch-image.js';
import { addressPolicy, parseCidrs } from '../src/fetch/address-policy.js';
import { parseAllowRules } from '../src/fetch/allowlist.js';
import type { Config } from '../src/config.js';

/**
 * The one reader of image-route bodies. A route declares what its body holds (file names, how many,
 * which text fields); multipart/form-data and application/json are both read here, with one mapping
 * of multipart errors to our codes and the bytes counted in one place. Every image of the body has
 * arrived when it resolves, so work (and an in-flight slot) starts only after the whole upload.
 */

export interface PartsSpec {
  /** Names a file part may have, e.g. ["image", "file"]; the first is the one messages suggest. */
  files: readonly string[];
  /** At most this many file parts; one more is refused as soon as it opens. */
  maxFiles: number;
  /** Each file name exactly once (verify's image1 and image2), rather than any of them up to maxFiles. */
  eachOnce?: boolean;
  /** The JSON key holding an array of base64 images, for the batch routes. */
  jsonArray?: string;
  /** Text fields the body may carry, besides the files. */
  fields?: readonly string[];
  /** Keys a JSON body may carry besides those (the query's knobs, which multipart takes in the query only). */
  jsonFields?: readonly string[];
  /** A JSON body may give the photo as {"url": ...}, fetched when LUMEN_FACE_URL_FETCH_ALLOW allows it. */
  jsonUrl?: boolean;
  /** The variable that sets maxFiles, for the message. */
  maxFilesSetting?: string;
  /** The body may carry no file at all (immich's CLIP text requests have none). */
  filesOptional?: boolean;
}

/** A file of the body. Nothing reads its bytes once the photo is run, so the file hands them over: pass it as it is. */
export interface ReadFile extends HandedOverBytes {
  name: string;
  bytes: Buffer;
}

export interface Parts {
  files: ReadFile[];
  fields: Record<string, string>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Read the whole body as `spec` declares it; every bad body is a 4xx LumenError. */
    readParts(spec: PartsSpec): Promise<Parts>;
  }
  interface FastifyInstance {
    /** The body limit of an image route: JSON carries LUMEN_FACE_MAX_UPLOAD_BYTES in base64. */
    jsonBodyLimit: number;
  }
}

const MAX_FIELD_BYTES = 1024 * 1024;
/**
 * busboy skips a part with no Content-Disposition, and stalls for good when one read of it fills the
 * part's buffer up to the high-water mark (16 KiB by default): the request would hang. Above the
 * largest socket read (64 KiB) a skipped part never fills it, so the body ends and the route answers
 * MISSING_IMAGE.
 */
const PART_HIGH_WATER_MARK = 1024 * 1024;

/** The names of the photo part; `file` is what CompreFace and InsightFace-REST clients send. */
export const IMAGE_PART_NAMES: readonly string[] = ['image', 'file'];

export const NOT_MULTIPART_MESSAGE =
  'expected a multipart/form-data request with an "image" file part (curl -F image=@photo.jpg), or application/json with "image" in base64';

/** A JSON body over this is refused by the body limit before it is buffered (see src/body-limits.ts). */
export { jsonBodyLimit };

const quotedList = (names: readonly string[]) => names.map((f) => `"${f}"`).join(', ');
const curlExample = (spec: PartsSpec) => (spec.eachOnce ? spec.files.map((n) => `-F ${n}=@photo.jpg`).join(' ') : `-F ${spec.files[0]}=@photo.jpg`);

/** The one mapping of @fastify/multipart and busboy errors to our codes and phrasing. */
const MULTIPART_CODES: Record<string, { code: ErrorCode; message: (spec?: PartsSpec) => string }> = {
  FST_FILES_LIMIT: { code: 'TOO_MANY_FILES', message: (spec) => tooManyFilesMessage(spec) },
  FST_PARTS_LIMIT: { code: 'TOO_MANY_PARTS', message: () => 'the multipart body has too many parts' },
  FST_FIELDS_LIMIT: { code: 'TOO_MANY_FIELDS', message: () => 'the multipart body has too many text fields' },
  FST_REQ_FILE_TOO_LARGE: { code: 'UPLOAD_TOO_LARGE', message: () => 'the upload is larger than LUMEN_FACE_MAX_UPLOAD_BYTES' },
  FST_INVALID_MULTIPART_CONTENT_TYPE: { code: 'NOT_MULTIPART', message: () => NOT_MULTIPART_MESSAGE },
  FST_MP_PREMATURE_CLOSE: { code: 'MALFORMED_MULTIPART', message: () => 'the connection closed before the multipart body was complete' },
};

/** "image" (or "file"): the first name, and the aliases. */
const namesText = (names: readonly string[]) => `"${names[0]}"${names.length > 1 ? ` (or ${quotedList(names.slice(1))})` : ''}`;

function tooManyFilesMessage(spec?: PartsSpec): string {
  if (!spec) return 'the multipart body has more file parts than this endpoint accepts';
  if (spec.eachOnce) return `send one file part each of ${quotedList(spec.files)}`;
  if (spec.maxFiles === 1) return `send exactly one file part, named ${namesText(spec.files)}; for many photos use the /batch routes`;
  const setting = spec.maxFilesSetting ? ` (${spec.maxFilesSetting})` : '';
  return `send at most ${spec.maxFiles} images in one request${setting}, as file parts named ${namesText(spec.files)}`;
}

/** Our error for a multipart failure, or undefined when `err` is not one. */
export function multipartError(err: unknown, spec?: PartsSpec): LumenError | undefined {
  const mapped = MULTIPART_CODES[(err as { code?: string }).code ?? ''];
  return mapped && new LumenError(mapped.code, mapped.message(spec));
}

export interface BodyOptions {
  maxUploadBytes: number;
  /** How photos given by URL are fetched; undefined when LUMEN_FACE_URL_FETCH_ALLOW is unset. */
  urlFetch?: Omit<FetchImageOptions, 'maxBytes'>;
}

/** The fetcher's options from the configuration; undefined (fetching off) without LUMEN_FACE_URL_FETCH_ALLOW. */
export function urlFetchOptions(config: Config): BodyOptions['urlFetch'] {
  if (config.urlFetchAllow.length === 0) return undefined;
  const totalTimeoutMs = config.urlFetchTimeout * 1000;
  return {
    rules: parseAllowRules(config.urlFetchAllow.join(',')).rules,
    policy: addressPolicy(parseCidrs(config.urlFetchAllowPrivate.join(',')).list),
    connectTimeoutMs: Math.min(5000, totalTimeoutMs),
    totalTimeoutMs,
  };
}

export default fp<BodyOptions>(
  async function bodyPlugin(app: FastifyInstance, opts) {
    await app.register(multipart, {
      fileHwm: PART_HIGH_WATER_MARK,
      // The byte count is readParts'; this bound only backs it up.
      limits: { fileSize: opts.maxUploadBytes + 1, fields: 8, fieldSize: MAX_FIELD_BYTES, headerPairs: 100 },
    });

    app.decorate('jsonBodyLimit', jsonBodyLimit(opts.maxUploadBytes));
    // Fastify's own JSON parser calls a "__proto__" key "not valid JSON"; this one says what is wrong.
    app.removeContentTypeParser('application/json');
    app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
      if (body === '') return done(new LumenError('EMPTY_BODY', 'the request says application/json but its body is empty'), undefined);
      try {
        done(null, parseJsonBody(body as string));
      } catch (err) {
        done(err as Error, undefined);
      }
    });
    app.decorateRequest('readParts', async function readParts(this: FastifyRequest, spec: PartsSpec): Promise<Parts> {
      if (this.isMultipart()) return readMultipart(this, spec, opts.maxUploadBytes);
      if (isJson(this)) return readJson(this.body, spec, opts);
      throw new LumenError('NOT_MULTIPART', NOT_MULTIPART_MESSAGE);
    });
  },
  { name: 'body' },
);

/** JSON.parse, refusing the keys that could reach an object's prototype (as Fastify's parser does), in our words. */
export function parseJsonBody(text: string): unknown {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text, (key, value: unknown) => {
      if (key === '__proto__' || (key === 'constructor' && value !== null && typeof value === 'object' && 'prototype' in value)) {
        throw new LumenError('INVALID_PARAMETER', `the JSON body has a "${key}" key, which is never accepted; remove it`);
      }
      return value;
    });
  } catch (err) {
    if (err instanceof LumenError) throw err;
    throw new LumenError('BAD_REQUEST', `the body is not valid JSON: ${(err as Error).message}`);
  }
  return parsed;
}

export const isJson = (request: FastifyRequest) => /^application\/json\b/i.test(request.headers['content-type'] ?? '');

/** The rules every file, from either media type, follows: an accepted name, each once if so declared. */
function checkFileName(name: string, spec: PartsSpec, files: readonly ReadFile[]): void {
  if (!spec.files.includes(name)) {
    throw new LumenError('UNEXPECTED_FILE', `unexpected file part "${name}"; send the photo${spec.eachOnce ? 's' : ''} as ${quotedList(spec.files)}`);
  }
  if (spec.eachOnce && files.some((f) => f.name === name)) {
    throw new LumenError('TOO_MANY_FILES', `"${name}" was sent twice; send ${tooManyFilesMessage(spec).replace(/^send /, '')}`);
  }
}

/** The rules every text field follows: not a photo, a name the endpoint accepts, given once. */
function checkField(name: string, spec: PartsSpec, fields: Record<string, string>): void {
  if (spec.files.includes(name)) {
    throw new LumenError('MISSING_IMAGE', `"${name}" was sent as a text field; it must be a file part (curl -F ${name}=@photo.jpg)`);
  }
  if (!(spec.fields ?? []).includes(name)) {
    throw new LumenError('UNEXPECTED_FIELD', `unexpected field "${name}"; this endpoint accepts ${quotedList([...spec.files, ...(spec.fields ?? [])])}`);
  }
  if (name in fields) throw new LumenError('DUPLICATE_FIELD', `field "${name}" is given twice; send it once`);
}

/** Each declared file present and not empty. */
function checkComplete(parts: Parts, spec: PartsSpec): Parts {
  const wanted = spec.eachOnce ? spec.files : [spec.files[0]];
  // A JSON body names the photo "image" (or "images"); the message names what it lacks.
  const none = parts.files.length === 0 && !spec.filesOptional;
  const missing = spec.eachOnce ? wanted.filter((n) => !parts.files.some((f) => f.name === n)) : none ? wanted : [];
  if (missing.length > 0) {
    throw new LumenError('MISSING_IMAGE', `the body has no ${missing.map((m) => `"${m}"`).join(' or ')} file part (curl ${curlExample(spec)})`);
  }
  const empty = parts.files.find((f) => f.bytes.length === 0);
  if (empty && !spec.jsonArray) throw new LumenError('EMPTY_IMAGE', `the "${empty.name}" part is empty`);
  return parts;
}

function tooLarge(maxBytes: number): LumenError {
  return new LumenError('UPLOAD_TOO_LARGE', `the images are larger than ${maxBytes} bytes together (LUMEN_FACE_MAX_UPLOAD_BYTES applies to the whole request)`);
}

async function readMultipart(request: FastifyRequest, spec: PartsSpec, maxBytes: number): Promise<Parts> {
  const parts: Parts = { files: [], fields: {} };
  let bytes = 0;
  try {
    // busboy raises the files limit when part maxFiles + 1 opens, so an oversized body stops there.
    for await (const part of request.parts({ limits: { files: spec.maxFiles, parts: spec.maxFiles + 8 } })) {
      if (part.type !== 'file') {
        checkField(part.fieldname, spec, parts.fields);
        if (part.valueTruncated) throw new LumenError('FIELD_TOO_LARGE', `field "${part.fieldname}" is larger than ${MAX_FIELD_BYTES} bytes`);
        parts.fields[part.fieldname] = String(part.value);
        continue;
      }
      try {
        checkFileName(part.fieldname, spec, parts.files);
      } catch (err) {
        part.file.resume();
        throw err;
      }
      const chunks: Buffer[] = [];
      for await (const chunk of part.file as AsyncIterable<Buffer>) {
        bytes += chunk.length;
        if (bytes > maxBytes) throw tooLarge(maxBytes);
        chunks.push(chunk);
      }
      parts.files.push({ name: part.fieldname, bytes: Buffer.concat(chunks), handOver: true });
    }
  } catch (err) {
    if (err instanceof LumenError) throw err;
    const mapped = multipartError(err, spec);
    if (mapped) throw mapped;
    const status = (err as { statusCode?: number }).statusCode;
    if (status !== undefined && status >= 400 && status < 500) throw err;
    // busboy's search cannot take a boundary over 256 characters; RFC 2046 allows 70.
    if (/needle cannot have a length bigger than/.test((err as Error).message)) {
      throw new LumenError(
        'MALFORMED_MULTIPART',
        `the multipart boundary is longer than 256 characters; RFC 2046 allows at most 70 (received ${String(request.headers['content-type']).length} characters of Content-Type)`,
      );
    }
    // busboy reports a malformed or truncated body as a plain Error.
    throw new LumenError('MALFORMED_MULTIPART', `the multipart body could not be parsed: ${(err as Error).message}`);
  }
  return checkComplete(parts, spec);
}

async function readJson(body: unknown, spec: PartsSpec, opts: BodyOptions): Promise<Parts> {
  const maxBytes = opts.maxUploadBytes;
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new LumenError('INVALID_PARAMETER', 'the JSON body must be an object, e.g. {"image": "<base64>"}');
  }
  const parts: Parts = { files: [], fields: {} };
  let bytes = 0;
  const add = (name: string, value: unknown, where: string) => {
    if (typeof value !== 'string') throw new LumenError('INVALID_PARAMETER', `body parameter "${where}" must be a base64 string`);
    const decoded = decodeBase64Image(value, where);
    bytes += decoded.length;
    if (bytes > maxBytes) throw tooLarge(maxBytes);
    if (parts.files.length >= spec.maxFiles) throw new LumenError('TOO_MANY_FILES', tooManyFilesMessage(spec));
    parts.files.push({ name, bytes: decoded, handOver: true });
  };
  for (const [key, value] of Object.entries(body)) {
    if (spec.jsonUrl && key === 'url') {
      if (typeof value !== 'string') throw new LumenError('INVALID_PARAMETER', 'body parameter "url" must be a string');
      if (!opts.urlFetch) throw new LumenError('URL_NOT_ALLOWED', 'fetching photos by URL is off; the operator enables it with LUMEN_FACE_URL_FETCH_ALLOW');
      if (parts.files.length > 0 || 'image' in body) throw new LumenError('TOO_MANY_FILES', 'send the photo once: "image" or "url", not both');
      const fetched = await fetchImage(value, { ...opts.urlFetch, maxBytes });
      parts.files.push({ name: spec.files[0], bytes: fetched, handOver: true });
    } else if (spec.jsonArray && key === spec.jsonArray) {
      if (!Array.isArray(value)) throw new LumenError('INVALID_PARAMETER', `body parameter "${key}" must be an array of base64 strings`);
      for (const [i, item] of value.entries()) add(spec.files[0], item, `${key}.${i}`);
    } else if (spec.files.includes(key)) {
      checkFileName(key, spec, parts.files);
      add(key, value, key);
    } else {
      if (![...(spec.fields ?? []), ...(spec.jsonFields ?? [])].includes(key)) {
        const accepted = [
          ...(spec.jsonArray ? [spec.jsonArray] : []),
          ...spec.files,
          ...(spec.jsonUrl ? ['url'] : []),
          ...(spec.fields ?? []),
          ...(spec.jsonFields ?? []),
        ];
        throw new LumenError('UNEXPECTED_FIELD', `unexpected field "${key}"; this endpoint accepts ${quotedList(accepted)}`);
      }
      // JSON.stringify would turn a number too large for a double (1e309, parsed as Infinity) into "null".
      parts.fields[key] = typeof value === 'string' ? value : typeof value === 'number' ? String(value) : JSON.stringify(value);
    }
  }
  return checkComplete(parts, spec);
}
