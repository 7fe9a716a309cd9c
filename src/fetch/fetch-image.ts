import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { LumenError } from '../errors.js';
import { describeBytes } from '../image/sniff.js';
import type { AddressPolicy } from './address-policy.js';
import { isAllowed, type AllowRule } from './allowlist.js';
import { looksLikeImage } from './image-signature.js';

/** All the addresses a name resolves to, as dns.lookup(name, { all: true }) gives them. */
export type ResolveAll = (host: string) => Promise<LookupAddress[]>;

export interface FetchImageOptions {
  rules: readonly AllowRule[];
  /** Why an address is refused, or undefined when it may be reached. */
  policy: AddressPolicy;
  maxBytes: number;
  connectTimeoutMs: number;
  totalTimeoutMs: number;
  /** The resolver; tests inject one that answers a private address for a public-looking name. */
  resolve?: ResolveAll;
}

export const MAX_REDIRECTS = 3;

const systemResolve: ResolveAll = (host) =>
  new Promise((resolve, reject) => dnsLookup(host, { all: true, verbatim: true }, (err, addresses) => (err ? reject(err) : resolve(addresses))));

const refusedUrl = (message: string) => new LumenError('URL_NOT_ALLOWED', message);
const failed = (message: string) => new LumenError('URL_FETCH_FAILED', message);

/** The URL with its userinfo removed (never forwarded), or an error for what may not be fetched. */
function checkUrl(text: string, rules: readonly AllowRule[]): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new LumenError('INVALID_PARAMETER', `body parameter "url" is not a URL: ${JSON.stringify(text.slice(0, 200))}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw refusedUrl(`only http and https URLs are fetched, not ${url.protocol}`);
  url.username = '';
  url.password = '';
  url.hash = '';
  if (!isAllowed(url, rules)) throw refusedUrl(`${url.origin} is not in LUMEN_FACE_URL_FETCH_ALLOW`);
  return url;
}

/**
 * The connection's own lookup: every address the name resolves to is checked, and the connection
 * goes to a checked one, so a second answer from DNS (rebinding) can never be used.
 */
function checkedLookup(resolve: ResolveAll, policy: AddressPolicy): LookupFunction {
  return (host, options, callback) => {
    resolve(host)
      .then((addresses) => {
        if (addresses.length === 0) throw failed(`${host} has no address`);
        for (const { address } of addresses) {
          const why = policy(address);
          if (why) throw refusedUrl(`${host} is refused, for one of its addresses: ${why}`);
        }
        const usable = (options as { family?: number }).family ? addresses.filter((a) => a.family === (options as { family?: number }).family) : addresses;
        const chosen = usable[0] ?? addresses[0];
        if ((options as { all?: boolean }).all) (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, [chosen]);
        else callback(null, chosen.address, chosen.family);
      })
      .catch((err: Error) => callback(err as NodeJS.ErrnoException, '', 0));
  };
}

/**
 * Fetch an image by URL for a route: only allowed origins, only public addresses (each resolved
 * address checked, the checked one connected to), at most MAX_REDIRECTS redirects each checked again,
 * no credentials or cookies sent, a connect and a total timeout, the bytes counted as they arrive,
 * and the body judged by its bytes.
 */
export async function fetchImage(text: string, options: FetchImageOptions): Promise<Buffer> {
  const deadline = Date.now() + options.totalTimeoutMs;
  let url = checkUrl(text, options.rules);
  for (let redirects = 0; ; redirects++) {
    const answer = await getOnce(url, options, deadline);
    if ('location' in answer) {
      if (redirects >= MAX_REDIRECTS) throw failed(`more than ${MAX_REDIRECTS} redirects, the last to ${answer.location.slice(0, 200)}`);
      let next: string;
      try {
        next = new URL(answer.location, url).toString();
      } catch {
        throw failed(`a redirect to an invalid URL: ${JSON.stringify(answer.location.slice(0, 200))}`);
      }
      url = checkUrl(next, options.rules);
      continue;
    }
    if (!looksLikeImage(answer.bytes)) {
      throw new LumenError('UNSUPPORTED_IMAGE', `the URL gave ${describeBytes(answer.bytes)}, not a JPEG, PNG, WebP, AVIF, GIF or TIFF image`);
    }
    return answer.bytes;
  }
}

type Answer = { bytes: Buffer } | { location: string };

function getOnce(url: URL, options: FetchImageOptions, deadline: number): Promise<Answer> {
  const literal = url.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal)) {
    // Node connects to an IP literal without a lookup, so it is checked here.
    const why = options.policy(literal);
    if (why) return Promise.reject(refusedUrl(`${url.host} is refused: ${why}`));
  }
  const remaining = deadline - Date.now();
  if (remaining <= 0) return Promise.reject(failed(`the URL did not answer within ${options.totalTimeoutMs} ms`));
  return new Promise<Answer>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, {
      method: 'GET',
      // No agent: a fresh connection, whose lookup is ours; no cookies, no authorization.
      agent: false,
      lookup: checkedLookup(options.resolve ?? systemResolve, options.policy),
      headers: { accept: 'image/*', 'user-agent': 'lumen-face' },
    });
    let settled = false;
    const finish = (err: Error | undefined, answer?: Answer) => {
      if (settled) return;
      settled = true;
      clearTimeout(total);
      clearTimeout(connect);
      if (err) {
        req.destroy();
        reject(err instanceof LumenError ? err : failed(`the URL could not be fetched: ${err.message}`));
      } else resolve(answer!);
    };
    const total = setTimeout(() => finish(failed(`the URL did not answer within ${options.totalTimeoutMs} ms`)), remaining);
    const connect = setTimeout(
      () => finish(failed(`no connection to ${url.host} within ${options.connectTimeoutMs} ms`)),
      Math.min(options.connectTimeoutMs, remaining),
    );
    req.on('socket', (socket) => {
      socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(connect));
    });
    req.on('error', (err) => finish(err));
    req.on('response', (res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      if ([301, 302, 303, 307, 308].includes(status) && res.headers.location) {
        res.resume();
        finish(undefined, { location: res.headers.location });
        return;
      }
      if (status < 200 || status > 299) {
        res.resume();
        finish(failed(`the URL answered HTTP ${status}`));
        return;
      }
      const announced = Number(res.headers['content-length']);
      if (announced > options.maxBytes) {
        finish(new LumenError('UPLOAD_TOO_LARGE', `the URL's image is ${announced} bytes; the limit is ${options.maxBytes} (LUMEN_FACE_MAX_UPLOAD_BYTES)`));
        return;
      }
      const chunks: Buffer[] = [];
      let bytes = 0;
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        if (bytes > options.maxBytes) {
          finish(new LumenError('UPLOAD_TOO_LARGE', `the URL's image is larger than ${options.maxBytes} bytes (LUMEN_FACE_MAX_UPLOAD_BYTES)`));
          return;
        }
        chunks.push(chunk);
      });
      res.on('end', () => finish(undefined, { bytes: Buffer.concat(chunks) }));
      res.on('error', (err) => finish(err));
      res.on('aborted', () => finish(failed('the URL closed the connection mid-body')));
    });
    req.end();
  });
}
