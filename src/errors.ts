/**
 * The one error class of the library. `status` is the HTTP status the server answers with,
 * `code` is stable and machine-readable; the message is for humans.
 */
export class LumenError extends Error {
  readonly status: number;
  readonly code: string;
  /** HTTP headers the answer should carry, such as Retry-After. */
  readonly headers: Record<string, string>;

  constructor(status: number, code: string, message: string, options?: { cause?: unknown; headers?: Record<string, string> }) {
    super(message, options);
    this.name = 'LumenError';
    this.status = status;
    this.code = code;
    this.headers = options?.headers ?? {};
  }
}

export const badRequest = (code: string, message: string) => new LumenError(400, code, message);
