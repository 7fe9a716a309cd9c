import type { IncomingMessage, Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * At most `max` open connections. A connection over the cap first makes room by closing the connection
 * that has been idle longest (no request in progress: a keep-alive connection between requests, or one
 * that never sent a complete request head); only when every connection is at work is the new one
 * closed at once. So idle sockets cannot lock out a probe or a real request, and the count stays bounded.
 * Plain Node: any http.Server can use it.
 */
export function capConnections(server: Server, max: number, onClosed?: (why: 'idle-evicted' | 'refused') => void): void {
  /** Open connections, and since when each has been idle (undefined while a request is in progress). */
  const open = new Map<Socket, number | undefined>();
  server.on('connection', (socket: Socket) => {
    if (open.size >= max) {
      const oldest = oldestIdle(open);
      if (oldest === undefined) {
        socket.destroy();
        onClosed?.('refused');
        return;
      }
      open.delete(oldest);
      oldest.destroy();
      onClosed?.('idle-evicted');
    }
    open.set(socket, performance.now());
    socket.once('close', () => open.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res) => {
    const socket = req.socket;
    if (!open.has(socket)) return;
    open.set(socket, undefined);
    res.once('close', () => {
      if (open.has(socket)) open.set(socket, performance.now());
    });
  });
}

function oldestIdle(open: Map<Socket, number | undefined>): Socket | undefined {
  let oldest: Socket | undefined;
  let since = Infinity;
  for (const [socket, idleSince] of open) {
    if (idleSince !== undefined && idleSince < since) {
      oldest = socket;
      since = idleSince;
    }
  }
  return oldest;
}
