import type { Socket } from 'node:net';

/**
 * A lingering close, as nginx does it (`lingering_close`, `lingering_time`, `lingering_timeout`). After an
 * answer sent before the request's body has arrived, the server ends its side (FIN) and then really reads
 * and discards what the client still sends, so the kernel never resets a connection whose client is still
 * writing its body: every client that writes before it reads (Node's fetch, Python requests) gets the answer.
 * It lets go when the client closes its side, and at the latest when one of the bounds is hit:
 * - `maxMs`: the whole linger, however the client behaves;
 * - `idleMs`: a silence from the client;
 * - `maxBytes`: what is discarded, so a client that never stops sending costs a known amount.
 *
 * Plain functions over a socket, for any server that answers early (HTTP/1.1 here, or another protocol).
 */

export interface LingerBounds {
  maxMs: number;
  idleMs: number;
  maxBytes: number;
}

export interface LingerEnd {
  /** 'client-closed', or the bound that ended it: 'time', 'idle', 'bytes'. */
  reason: 'client-closed' | 'time' | 'idle' | 'bytes';
  discardedBytes: number;
}

const lingering = new WeakSet<Socket>();

/** True while `socket` is in its lingering close (its HTTP parser no longer reads it). */
export const isLingering = (socket: Socket) => lingering.has(socket);

/**
 * End our side of `socket` once what is written has been sent, discard what the client still sends, and
 * destroy the socket when the client closes or a bound is hit. Node's HTTP parser stops reading it.
 */
export function lingerThenClose(socket: Socket, bounds: LingerBounds, onEnd?: (end: LingerEnd) => void): void {
  if (socket.destroyed || lingering.has(socket)) return;
  lingering.add(socket);
  let discardedBytes = 0;
  let finished = false;
  const finish = (reason: LingerEnd['reason']) => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.destroy();
    onEnd?.({ reason, discardedBytes });
  };
  // The HTTP parser would read the rest of the body as more requests (or report a parse error again).
  socket.removeAllListeners('data');
  socket.on('data', (chunk: Buffer) => {
    discardedBytes += chunk.length;
    if (discardedBytes > bounds.maxBytes) finish('bytes');
  });
  socket.once('end', () => finish('client-closed'));
  socket.once('close', () => finish('client-closed'));
  socket.on('error', () => finish('client-closed'));
  socket.setTimeout(bounds.idleMs);
  socket.on('timeout', () => finish('idle'));
  const timer = setTimeout(() => finish('time'), bounds.maxMs);
  timer.unref();
  socket.end();
  socket.resume();
}

/**
 * Node's HTTP server destroys a socket as soon as a `Connection: close` answer is sent (`destroySoon`),
 * which resets it if the client is still writing. For this one socket, linger instead.
 */
export function lingerInsteadOfDestroy(socket: Socket, bounds: LingerBounds, onEnd?: (end: LingerEnd) => void): void {
  const s = socket as Socket & { destroySoon?: () => void };
  s.destroySoon = () => lingerThenClose(socket, bounds, onEnd);
}
