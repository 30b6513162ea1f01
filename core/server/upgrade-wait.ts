import type { RequestContext } from '../pipeline/request-context';
import type { Target, UpstreamPool } from '../upstream/pool';

/** Bytes a queued upgrade may send before its slot: a WebSocket client sends none before the 101. */
const KEPT_MAX = 64 * 1024;

/**
 * An upgrade waits in the pool's queue like any request, with its socket read meanwhile. Node
 * hands an upgrade's socket over unread, so a client that gave up (its FIN) would go unnoticed
 * and keep its place until the queue timeout, then be forwarded to nobody; read, the socket
 * ends, is destroyed, and the gateway's 'close' listener takes the request out of the queue.
 * What the client sent meanwhile is put back, in order, for http-proxy to pipe upstream.
 */
export function waitForUpgrade(ctx: RequestContext, pool: UpstreamPool): Promise<Target | undefined> {
  const socket = ctx.socket;
  const kept: Buffer[] = [];
  let size = 0;
  const keep = (chunk: Buffer): void => {
    kept.push(chunk);
    size += chunk.length;
    if (size > KEPT_MAX) socket.destroy();
  };
  // The server's sockets allow half-open connections: a client that ended has left.
  const ended = (): void => void socket.destroy();
  socket.on('data', keep);
  socket.once('end', ended);
  const restore = (): void => {
    socket.removeListener('data', keep);
    socket.removeListener('end', ended);
    // Back to the state Node's server leaves an upgrade socket in (it assigns this too): not
    // flowing until http-proxy pipes it.
    (socket as { readableFlowing: boolean | null }).readableFlowing = null;
    for (let i = kept.length - 1; i >= 0; i--) socket.unshift(kept[i]);
  };
  return pool.wait(ctx).then(
    (t) => {
      restore();
      return t;
    },
    (err: unknown) => {
      restore();
      throw err;
    },
  );
}
