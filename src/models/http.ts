import http, { type ClientRequest, type IncomingMessage } from 'node:http';
import https from 'node:https';
import { sha256FromEtag } from './sha256.js';

export type FailureKind = 'http' | 'network' | 'timeout' | 'truncated' | 'integrity' | 'redirect';

/** A remote failure; `detail` is the short human text shown next to the URL. */
export class RemoteFailure extends Error {
  constructor(
    readonly kind: FailureKind,
    readonly detail: string,
    readonly status?: number,
  ) {
    super(detail);
    this.name = 'RemoteFailure';
  }
}

/**
 * Fires when nothing has happened for `ms`: the connection, the headers and every body chunk
 * each re-arm it, so a slow but steady download never times out while a stall does.
 */
export class Watchdog {
  fired = false;
  private timer: NodeJS.Timeout | undefined;
  private req: ClientRequest | undefined;
  private res: IncomingMessage | undefined;

  constructor(readonly ms: number) {}

  watch(req: ClientRequest, res?: IncomingMessage): void {
    this.req = req;
    this.res = res;
    this.touch();
  }

  touch(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.fired = true;
      const err = this.timeoutError();
      this.res?.destroy(err);
      this.req?.destroy(err);
    }, this.ms);
  }

  stop(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  timeoutError(received?: number, total?: number): RemoteFailure {
    const progress = received ? ` after ${received}${total !== undefined ? ` of ${total}` : ''} bytes` : '';
    return new RemoteFailure('timeout', `timed out: no data for ${this.ms} ms${progress}`);
  }
}

export function describeNetworkError(err: unknown): string {
  if (err instanceof AggregateError && !err.message) {
    // Happy-eyeballs connects (e.g. to localhost) fail with one error per address and no message.
    const parts = err.errors.map((e) => (e instanceof Error ? e.message : String(e)));
    if (parts.length) return parts.join('; ');
  }
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return err.message || code || err.name;
  }
  return String(err);
}

function get(url: URL, headers: Record<string, string>, wd: Watchdog): Promise<{ req: ClientRequest; res: IncomingMessage }> {
  return new Promise((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    // No pooling: a handful of large downloads gain nothing from keep-alive.
    const req = mod.request(url, { method: 'GET', headers, agent: false });
    wd.watch(req);
    req.on('response', (res) => {
      wd.watch(req, res);
      resolve({ req, res });
    });
    // Stays attached for the body phase too, where errors surface through `res`.
    req.on('error', (err) => {
      reject(wd.fired ? wd.timeoutError() : new RemoteFailure('network', `network error: ${describeNetworkError(err)}`));
    });
    req.end();
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function header(res: IncomingMessage, name: string): string | undefined {
  const v = res.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function parseSize(v: string | undefined): number | undefined {
  if (v === undefined || !/^\d+$/.test(v.trim())) return undefined;
  return Number(v.trim());
}

export interface OpenOptions {
  /** Sent as `Authorization: Bearer` to the starting origin only, never to hosts redirected to. */
  token?: string;
  watchdog: Watchdog;
  maxRedirects?: number;
}

export interface OpenedResponse {
  req: ClientRequest;
  res: IncomingMessage;
  finalUrl: URL;
  contentLength?: number;
  /** From X-Linked-Etag anywhere in the chain, else a sha256-shaped ETag from the starting origin. */
  expectedSha256?: string;
  /** From X-Linked-Size anywhere in the chain. */
  expectedSize?: number;
}

export async function openFollowingRedirects(start: string, opts: OpenOptions): Promise<OpenedResponse> {
  const maxRedirects = opts.maxRedirects ?? 10;
  let url = new URL(start);
  const origin = url.origin;
  let linkedSha: string | undefined;
  let linkedSize: number | undefined;
  let originEtag: string | undefined;

  for (let hop = 0; ; hop++) {
    const headers: Record<string, string> = { 'user-agent': 'lumen-face', 'accept-encoding': 'identity' };
    if (opts.token && url.origin === origin) headers.authorization = `Bearer ${opts.token}`;
    const { req, res } = await get(url, headers, opts.watchdog);
    const status = res.statusCode ?? 0;

    // Hugging Face puts the LFS sha256 and size on its own 302, not on the CDN's 200.
    linkedSha ??= sha256FromEtag(header(res, 'x-linked-etag'));
    linkedSize ??= parseSize(header(res, 'x-linked-size'));
    if (url.origin === origin) originEtag ??= sha256FromEtag(header(res, 'etag'));

    if (REDIRECTS.has(status)) {
      res.destroy();
      const location = header(res, 'location');
      if (!location) throw new RemoteFailure('http', `HTTP ${status} ${res.statusMessage ?? ''} without Location`.trim(), status);
      if (hop >= maxRedirects) throw new RemoteFailure('redirect', `too many redirects (more than ${maxRedirects})`);
      let next: URL;
      try {
        next = new URL(location, url);
      } catch {
        throw new RemoteFailure('redirect', `invalid redirect Location: ${location}`);
      }
      if (next.protocol !== 'http:' && next.protocol !== 'https:') {
        throw new RemoteFailure('redirect', `redirect to unsupported protocol ${next.protocol}`);
      }
      url = next;
      continue;
    }
    if (status !== 200) {
      res.destroy();
      const via = url.origin !== origin ? ` from ${url.origin}` : '';
      throw new RemoteFailure('http', `HTTP ${status} ${res.statusMessage ?? ''}`.trim() + via, status);
    }
    return {
      req,
      res,
      finalUrl: url,
      contentLength: parseSize(header(res, 'content-length')),
      expectedSha256: linkedSha ?? originEtag,
      expectedSize: linkedSize,
    };
  }
}
