/**
 * Every error code the service answers with: its HTTP status and what it means. The README's error
 * table and the OpenAPI `code` enum are generated from this table, and a test keeps them in step.
 */
export const ERROR_CODES = {
  INVALID_PARAMETER: { status: 400, meaning: 'a query parameter is missing, malformed or out of range' },
  INVALID_OPTION: { status: 400, meaning: 'a pipeline option passed to the library is out of range' },
  INVALID_BOXES: { status: 400, meaning: 'the `boxes` field is not valid JSON boxes, or a box or its landmarks cannot be used' },
  INVALID_IMAGE: { status: 400, meaning: 'the raw pixel buffer does not match its stated size' },
  MALFORMED_MULTIPART: { status: 400, meaning: 'the multipart body could not be parsed' },
  MISSING_IMAGE: { status: 400, meaning: 'the multipart body has no `image` (or `file`) file part, or sent it as a text field' },
  EMPTY_IMAGE: { status: 400, meaning: 'the `image` part has no bytes' },
  UNEXPECTED_FILE: { status: 400, meaning: 'a file part other than `image` (or `file`) was sent' },
  UNEXPECTED_FIELD: { status: 400, meaning: 'a form field this endpoint does not accept was sent' },
  TOO_MANY_FILES: { status: 400, meaning: 'more file parts than the endpoint accepts' },
  TOO_MANY_FIELDS: { status: 400, meaning: 'more form fields than the endpoint accepts' },
  EMPTY_BODY: { status: 400, meaning: 'a body was announced but none was sent' },
  INVALID_CONTENT_LENGTH: { status: 400, meaning: 'the Content-Length header does not match the body' },
  BAD_REQUEST: { status: 400, meaning: 'the HTTP request itself is malformed' },
  INVALID_MODEL_REQUEST: { status: 400, meaning: 'the requested model pack name, runtime or repository is not valid' },
  NOT_FOUND: { status: 404, meaning: 'no such route' },
  FIELD_TOO_LARGE: { status: 413, meaning: 'a form field is larger than its limit' },
  IMAGE_TOO_LARGE: { status: 413, meaning: 'the image has more pixels than `LUMEN_FACE_MAX_PIXELS`' },
  UPLOAD_TOO_LARGE: { status: 413, meaning: 'the upload is larger than `LUMEN_FACE_MAX_UPLOAD_BYTES`' },
  TOO_MANY_PARTS: { status: 413, meaning: 'the multipart body has too many parts' },
  NOT_MULTIPART: { status: 415, meaning: 'the request is not multipart/form-data' },
  UNSUPPORTED_IMAGE: { status: 415, meaning: 'the bytes are not an image format the service decodes' },
  INTERNAL_ERROR: { status: 500, meaning: 'an unexpected failure; the log has the details under the request id' },
  MODEL_LOAD_FAILED: { status: 500, meaning: 'the runtime could not load or run a model of the pack' },
  RKNN_UNAVAILABLE: { status: 500, meaning: 'the RKNN addon or `librknnrt.so` could not be loaded' },
  RKNN_TARGET_MISMATCH: { status: 500, meaning: '`rknn_target` names another SoC than this board' },
  RKNN_RUN_FAILED: { status: 500, meaning: 'the NPU runtime failed a run' },
  BUSY: { status: 503, meaning: '`LUMEN_FACE_MAX_INFLIGHT` images are in progress; retry after `Retry-After` seconds' },
  NOT_READY: { status: 503, meaning: 'the models are still loading, or failed to load (see `/readyz`)' },
  MODEL_NOT_FOUND: { status: 503, meaning: 'the model pack is in none of the places tried' },
  MODEL_DOWNLOAD_FAILED: { status: 503, meaning: 'the model pack could not be downloaded' },
  MODEL_READ_FAILED: { status: 503, meaning: 'a model file exists but cannot be read' },
  REQUEST_TIMEOUT: {
    status: 408,
    meaning: 'the request stopped sending for `LUMEN_FACE_REQUEST_TIMEOUT` seconds, or took longer than `LUMEN_FACE_UPLOAD_TIMEOUT`',
  },
  HEADERS_TOO_LARGE: { status: 431, meaning: 'the request line and headers are larger than the HTTP parser accepts (16 KiB)' },
  SHUTTING_DOWN: { status: 503, meaning: 'the server is shutting down; retry on another instance' },
  DUPLICATE_FIELD: { status: 400, meaning: 'a form field is given more than once' },
  METHOD_NOT_ALLOWED: { status: 405, meaning: 'the route exists, but not for this method (see `Allow`)' },
  NO_FACE: { status: 422, meaning: 'an image sent to `/v1/verify` shows no face; the message names which' },
  INVALID_EMBEDDING: { status: 400, meaning: 'an embedding sent to `/v1/verify` has the wrong length or is all zeros' },
  UNAUTHORIZED: { status: 401, meaning: 'API keys are set and the request has no valid `x-api-key` or `Authorization: Bearer` key' },
  URL_NOT_ALLOWED: { status: 403, meaning: 'the `url` is not in `LUMEN_FACE_URL_FETCH_ALLOW`, is not http(s), or resolves to an internal address' },
  URL_FETCH_FAILED: { status: 502, meaning: 'the `url` could not be fetched: no connection, a timeout, an error status or too many redirects' },
  MISDIRECTED_REQUEST: { status: 421, meaning: 'the `Host` header names no host in `LUMEN_FACE_ALLOWED_HOSTS`' },
  INVALID_ENTRIES: {
    status: 422,
    meaning: "the `entries` field of immich's `/predict` is not JSON tasks with a `modelName` each, or a face option is out of range",
  },
  MODEL_MISMATCH: { status: 422, meaning: 'immich asked `/predict` for another face model than the loaded pack; the message names both' },
  TASK_NOT_SERVED: {
    status: 422,
    meaning: 'a `/predict` task other than faces, with no `LUMEN_FACE_IMMICH_UPSTREAM` to forward it to, or faces mixed with other tasks',
  },
  UPSTREAM_FAILED: { status: 502, meaning: 'the immich ML server at `LUMEN_FACE_IMMICH_UPSTREAM` could not be reached, failed, or answered too much' },
  ABORTED: {
    status: 499,
    meaning:
      "the caller cancelled the work before it finished (the client went away, or a library caller's signal aborted); 499 is nginx's 'client closed request', so it mostly reaches logs",
  },
  TOO_MANY_FACES: {
    status: 422,
    meaning: 'a batch image was not processed because the request already holds `LUMEN_FACE_MAX_FACES_PER_REQUEST` faces; send it in another request',
  },
  EXPECTATION_FAILED: { status: 417, meaning: 'the `Expect` header asks for something other than `100-continue`' },
  BUDGET_EXCEEDED: { status: 503, meaning: 'the request needed more work than `LUMEN_FACE_REQUEST_BUDGET` seconds allow; its work was stopped' },
  UPSTREAM_TIMEOUT: { status: 504, meaning: 'the immich ML server at `LUMEN_FACE_IMMICH_UPSTREAM` did not answer within `LUMEN_FACE_IMMICH_UPSTREAM_TIMEOUT`' },
} as const satisfies Record<string, { status: number; meaning: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export const errorCodes = Object.keys(ERROR_CODES) as ErrorCode[];

/**
 * The one error class of the library. `code` is stable and machine-readable, `status` is the HTTP
 * status its table gives; the message is for humans.
 */
export class LumenError extends Error {
  readonly status: number;
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LumenError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
  }
}

/**
 * Why work given this signal stopped: its reason when that is a LumenError (a caller that aborts for
 * its own timeout says which), else ABORTED.
 */
export function abortError(signal: AbortSignal): LumenError {
  if (signal.reason instanceof LumenError) return signal.reason;
  return new LumenError('ABORTED', 'the work was cancelled before it finished (its abort signal fired)', { cause: signal.reason });
}
