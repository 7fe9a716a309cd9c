/**
 * The one error class of the library. `status` is the HTTP status the server answers with,
 * `code` is stable and machine-readable; the message is for humans.
 */
export class LumenError extends Error {
  readonly status: number;
  readonly code: string;

  constructor(status: number, code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LumenError';
    this.status = status;
    this.code = code;
  }
}

export const badRequest = (code: string, message: string) => new LumenError(400, code, message);
