import http from 'node:http';
import net from 'node:net';
import type { Logger } from 'pino';
import { countBodyBytes } from './young-gc';

/** Bytes of one socket read: what libuv asks Node to allocate for each read otherwise. */
const READ_SIZE = 64 * 1024;

/**
 * The one buffer every plain-HTTP upstream socket reads into. Sharing it is safe because a
 * read is handled to the end before the event loop can read again, and {@link onRead} only
 * hands it to Node's HTTP parser, which keeps nothing of it: body chunks are copied out and
 * header strings are saved at the end of each `execute`.
 */
const shared = Buffer.allocUnsafe(READ_SIZE);

/** The parts of Node's HTTP client state on a socket that {@link onRead} looks at. */
type UpstreamSocket = net.Socket & { parser?: unknown; _httpMessage?: http.ClientRequest | null };

/**
 * Called by Node for every read of an upstream socket (net's documented `onread` option).
 * While a response is being parsed (Node's HTTP client sets `socket.parser` and clears it
 * when the socket goes back to the pool or is handed over), the bytes go straight to the
 * parser, which copies the body out: one 64 KiB allocation per read instead of two (Node
 * would otherwise allocate a fresh buffer for the read, then copy the body into another).
 * A request that listens for `upgrade`/`connect` gets copies, because Node hands the bytes
 * after a 101 answer to that listener as a slice of the read buffer. Any other time (idle in
 * the pool, handed over after an upgrade) the socket is an ordinary stream, fed copies.
 * One thing stays a view: `rawPacket` on an HTTP parse error (debugging only).
 * Every read is counted towards `server.tuning.gcEveryMiB` (young-gc.ts), which frees those copies.
 */
function onRead(this: UpstreamSocket, nread: number, buf: Buffer): boolean {
  countBodyBytes(nread);
  const chunk = buf.subarray(0, nread);
  const req = this._httpMessage;
  if (this.parser && req && req.listenerCount('upgrade') === 0 && req.listenerCount('connect') === 0) {
    this.emit('data', chunk);
    return true;
  }
  return this.push(Buffer.from(chunk));
}

/**
 * A keep-alive agent for `http:` upstreams whose sockets read into one reused buffer.
 * Streaming a large answer then allocates half as many 64 KiB buffers, and since V8 collects
 * such (external) memory only after tens of MiB of it have piled up, it runs about 40% fewer
 * garbage collections per GiB streamed (bench/README.md, "Streaming files by hash").
 */
export class ReadBufferAgent extends http.Agent {
  /** Node's Agent calls this for each new socket (its default is `net.createConnection`, called the same way). */
  override createConnection(options: http.ClientRequestArgs, callback?: (err: Error | null, stream: net.Socket) => void): net.Socket {
    const socket = net.createConnection(
      { ...options, onread: { buffer: shared, callback: onRead } } as net.NetConnectOpts,
      callback as () => void,
    );
    (socket as { [COUNTED]?: true })[COUNTED] = true;
    return socket;
  }
}

const COUNTED = Symbol('gatehouse.readBuffer');

/** Whether a socket's reads are counted towards gcEveryMiB already (it reads through {@link onRead}). */
export function readsCounted(socket: unknown): boolean {
  return (socket as { [COUNTED]?: true } | null)?.[COUNTED] === true;
}

/**
 * Node majors the test suite has run the read buffer on: it relies on Node's HTTP client
 * internals (`socket.parser`, `_httpMessage`), which a new major may change.
 */
const TESTED_NODE_MAJORS: readonly number[] = [20];
let warned = false;

/**
 * Whether to use {@link ReadBufferAgent}: `server.tuning.readBuffer`, on a tested Node major.
 * On another major the stock agent is used and a warning logged once per process.
 */
export function useReadBuffer(requested: boolean, log: Logger, major = Number(process.versions.node.split('.')[0])): boolean {
  if (!requested) return false;
  if (TESTED_NODE_MAJORS.includes(major)) return true;
  if (!warned) {
    warned = true;
    log.warn(
      { node: process.version, tested: TESTED_NODE_MAJORS },
      'server.tuning.readBuffer: not tested on this Node major; upstream sockets use the stock agent',
    );
  }
  return false;
}
