import type { IncomingMessage, ServerResponse } from 'node:http';
import type { SampleRing } from '../observe/sample-ring';
import type { UiSnapshot } from './snapshot';

/**
 * One dashboard's Server-Sent Events stream: `history` (the whole ring) and `state` at once,
 * then after each roll of the ring (once a second; in a cluster primary, each collection from
 * the workers) `samples` (the seconds finished since the last push) and `state`. A push is
 * skipped while the previous one is being read or the client has not drained what it was sent,
 * so a slow client costs one snapshot at a time, never a backlog.
 */
export function streamEvents(
  req: IncomingMessage,
  res: ServerResponse,
  ring: SampleRing,
  snapshot: UiSnapshot,
  headers: Record<string, string>,
  /** Whether the session is still live: the stream ends at the first push after a logout or expiry. */
  alive: () => boolean,
): void {
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    'x-accel-buffering': 'no',
  });
  let sent = ring.lastSecond;
  let busy = false;
  let closed = false;
  const send = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
  const push = async (first: boolean) => {
    if (busy || closed || res.writableNeedDrain) return;
    if (!alive()) {
      res.end();
      return;
    }
    busy = true;
    try {
      if (first) send('history', { last: ring.lastSecond, routes: ring.series() });
      else if (ring.lastSecond > sent) {
        const n = ring.lastSecond - sent;
        send('samples', { last: ring.lastSecond, routes: ring.series(n) });
      }
      sent = ring.lastSecond;
      const state = await snapshot.read(req, res);
      if (!closed) send('state', state);
    } catch (err) {
      if (!closed) send('failure', { message: (err as Error).message });
    } finally {
      busy = false;
    }
  };
  const unsubscribe = ring.onRoll(() => void push(false));
  res.once('close', () => {
    closed = true;
    unsubscribe();
  });
  void push(true);
}
