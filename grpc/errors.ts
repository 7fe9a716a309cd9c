import { LumenError } from '../src/errors.js';
import type { InferError, WireErrorCode } from './protocol.js';

/**
 * A failure as Lumen's Error message: the client's mistakes (every 4xx of the error table, 413 included)
 * are INVALID_ARGUMENT, 503s (busy, still loading) UNAVAILABLE, a 408 DEADLINE_EXCEEDED; the rest is
 * INTERNAL, whose message says no more than HTTP's 500 does. `detail` carries lumen-face's own code.
 */
export function wireError(err: unknown): InferError {
  if (!(err instanceof LumenError))
    return { code: 'ERROR_CODE_INTERNAL', message: 'internal error; the log has the details under this correlation id', detail: 'INTERNAL_ERROR' };
  return { code: wireCode(err.status), message: err.message, detail: err.code };
}

function wireCode(status: number): WireErrorCode {
  if (status === 408) return 'ERROR_CODE_DEADLINE_EXCEEDED';
  if (status === 503) return 'ERROR_CODE_UNAVAILABLE';
  if (status >= 400 && status < 500) return 'ERROR_CODE_INVALID_ARGUMENT';
  return 'ERROR_CODE_INTERNAL';
}

/** Whether the log should have this failure with its stack: the service's own, not a client's. */
export const isServerFault = (err: unknown) => !(err instanceof LumenError) || (err.status >= 500 && err.status !== 503);
