import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { LumenError } from '../src/errors.js';

/** The multipart fields of an immich `/predict` request, as they arrived. */
export interface PredictForm {
  entries: string;
  image?: Buffer;
  text?: string;
  assetId?: string;
}

export interface UpstreamAnswer {
  status: number;
  contentType: string;
  body: Buffer;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Forwards a `/predict` form to LUMEN_FACE_IMMICH_UPSTREAM; undefined when none is configured. */
    immichUpstream: ((form: PredictForm, clientGone?: AbortSignal) => Promise<UpstreamAnswer>) | undefined;
  }
}

export interface UpstreamOptions {
  url: string | undefined;
  timeoutSeconds: number;
  maxBytes: number;
}

/**
 * Marks a request this service forwarded, so an upstream URL that points back at lumen-face (directly
 * or through a proxy) answers 502 at once instead of forwarding to itself until the timeout.
 */
export const FORWARDED_HEADER = 'x-lumen-face-forwarded';

/**
 * The form is rebuilt the way immich's server builds it (the image a Blob with no file name), with the
 * same field values, so the upstream sees what immich would have sent it.
 */
function formOf(form: PredictForm): FormData {
  const body = new FormData();
  body.append('entries', form.entries);
  if (form.image) body.append('image', new Blob([new Uint8Array(form.image)]));
  if (form.text !== undefined) body.append('text', form.text);
  if (form.assetId !== undefined) body.append('assetId', form.assetId);
  return body;
}

async function readBounded(response: Response, maxBytes: number, where: string): Promise<Buffer> {
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new LumenError('UPSTREAM_FAILED', `${where} answered ${declared} bytes, more than ${maxBytes} (LUMEN_FACE_IMMICH_UPSTREAM_MAX_BYTES)`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  if (response.body) {
    for await (const chunk of response.body as AsyncIterable<Uint8Array>) {
      size += chunk.byteLength;
      if (size > maxBytes) {
        await response.body.cancel().catch(() => undefined);
        throw new LumenError('UPSTREAM_FAILED', `${where} answered more than ${maxBytes} bytes (LUMEN_FACE_IMMICH_UPSTREAM_MAX_BYTES)`);
      }
      chunks.push(Buffer.from(chunk));
    }
  }
  return Buffer.concat(chunks);
}

export function upstreamForwarder(opts: UpstreamOptions & { url: string }) {
  const target = `${opts.url}/predict`;
  return async function forward(form: PredictForm, clientGone?: AbortSignal): Promise<UpstreamAnswer> {
    // One deadline for connecting, the answer's headers and its body.
    const deadline = AbortSignal.timeout(opts.timeoutSeconds * 1000);
    // A client that has gone frees its slot and the upstream's work at once, not at the deadline.
    const signal = clientGone ? AbortSignal.any([deadline, clientGone]) : deadline;
    try {
      const response = await fetch(target, { method: 'POST', body: formOf(form), signal, headers: { [FORWARDED_HEADER]: '1' }, redirect: 'manual' });
      const body = await readBounded(response, opts.maxBytes, `the immich ML server at ${opts.url}`);
      if (response.status >= 500 || response.status < 200 || (response.status >= 300 && response.status < 400)) {
        throw new LumenError('UPSTREAM_FAILED', `the immich ML server at ${opts.url} answered ${response.status}`);
      }
      return { status: response.status, contentType: response.headers.get('content-type') ?? 'application/json', body };
    } catch (err) {
      if (err instanceof LumenError) throw err;
      if (clientGone?.aborted) throw new LumenError('UPSTREAM_FAILED', 'the client went away; the forwarded request was cancelled', { cause: err });
      if (deadline.aborted) {
        throw new LumenError(
          'UPSTREAM_TIMEOUT',
          `the immich ML server at ${opts.url} did not answer within ${opts.timeoutSeconds} s (LUMEN_FACE_IMMICH_UPSTREAM_TIMEOUT)`,
        );
      }
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      const why = cause?.code ?? cause?.message ?? (err as Error).message;
      throw new LumenError('UPSTREAM_FAILED', `the immich ML server at ${opts.url} could not be reached: ${why}`, { cause: err });
    }
  };
}

export default fp<UpstreamOptions>(
  async function immichUpstreamPlugin(app: FastifyInstance, opts) {
    const { url } = opts;
    app.decorate('immichUpstream', url === undefined ? undefined : upstreamForwarder({ ...opts, url }));
  },
  { name: 'immich-upstream' },
);
