import net from 'node:net';
import type { AddressInfo } from 'node:net';

/** One request as the recording backend framed it itself. */
export interface SeenRequest {
  method: string;
  path: string;
  /** Header lines as received, names lowercased (repeats kept). */
  headers: [string, string][];
  body: string;
  /** Index of the backend connection it came on. */
  conn: number;
}

/** A raw TCP backend that frames requests with its own strict HTTP/1.1 parser. */
export interface RecordingBackend {
  port: number;
  url: string;
  /** Every request parsed completely, in arrival order. */
  requests: SeenRequest[];
  /** Anything the strict parser found ambiguous or wrong (none may ever appear). */
  problems: string[];
  /** Exact bytes received, per connection. */
  received: Buffer[];
  /** Forget what was recorded (connections stay open). */
  reset(): void;
}

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const HOP = ['te', 'trailer', 'keep-alive', 'proxy-connection', 'upgrade', 'proxy-authorization'];

type Parsed = { req: SeenRequest; used: number } | { need: true } | { problem: string };

/**
 * Parse one request at the start of `buf` the strict way a careful origin would: CRLF only,
 * token names, no space before the colon, exactly one Host, at most one framing header,
 * Content-Length canonical digits, Transfer-Encoding ending in chunked, strict chunk syntax.
 * Whatever a lenient server could read differently is a problem, reported, never guessed.
 */
function parseRequest(buf: Buffer, conn: number): Parsed {
  const text = buf.toString('latin1');
  const end = text.indexOf('\r\n\r\n');
  if (end < 0)
    return /[\0]|\r(?!\n)|(?<!\r)\n/.test(text)
      ? { problem: `bad line ending or NUL in head ${JSON.stringify(text.slice(0, 80))}` }
      : { need: true };
  const head = text.slice(0, end);
  if (/[\0]|\r(?!\n)|(?<!\r)\n/.test(head)) return { problem: `bad line ending or NUL in head ${JSON.stringify(head.slice(0, 80))}` };
  const lines = head.split('\r\n');
  const m = /^([A-Z]+) (\/\S*) HTTP\/1\.1$/.exec(lines[0]);
  if (!m) return { problem: `bad request line ${JSON.stringify(lines[0])}` };
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon);
    if (!TOKEN.test(name)) return { problem: `bad header line ${JSON.stringify(line)}` };
    headers.push([name.toLowerCase(), line.slice(colon + 1).replace(/^[ \t]+|[ \t]+$/g, '')]);
  }
  const all = (n: string) => headers.filter(([k]) => k === n).map(([, v]) => v);
  const cl = all('content-length');
  const te = all('transfer-encoding');
  if (all('host').length !== 1) return { problem: `${all('host').length} Host headers` };
  if (cl.length && te.length) return { problem: 'both Content-Length and Transfer-Encoding' };
  if (cl.length > 1 || te.length > 1) return { problem: 'repeated framing header' };
  const conns = all('connection')
    .join(',')
    .split(',')
    .map((s) => s.trim().toLowerCase());
  if (conns.some((c) => c === 'content-length' || c === 'transfer-encoding' || c === 'host'))
    return { problem: `Connection names a framing header: ${conns}` };
  for (const h of HOP)
    if (all(h).length && !(h === 'upgrade' && conns.includes('upgrade'))) return { problem: `hop-by-hop header forwarded: ${h}` };
  const xff = all('x-forwarded-for');
  if (xff.length !== 1 || xff[0] !== '127.0.0.1') return { problem: `X-Forwarded-For not core's own: ${JSON.stringify(xff)}` };
  let pos = end + 4;
  let body = '';
  if (te.length) {
    const codings = te[0].split(',').map((s) => s.trim());
    if (codings[codings.length - 1] !== 'chunked' || codings.filter((c) => c === 'chunked').length !== 1)
      return { problem: `Transfer-Encoding not ending in one literal chunked: ${te[0]}` };
    for (;;) {
      const eol = text.indexOf('\r\n', pos);
      if (eol < 0) return { need: true };
      const sizeLine = text.slice(pos, eol);
      if (!/^[0-9a-f]{1,8}$/i.test(sizeLine)) return { problem: `bad chunk size line ${JSON.stringify(sizeLine)}` };
      const size = parseInt(sizeLine, 16);
      pos = eol + 2;
      if (size === 0) {
        if (text.length < pos + 2) return { need: true };
        if (text.slice(pos, pos + 2) !== '\r\n') return { problem: 'trailers forwarded' };
        pos += 2;
        break;
      }
      if (text.length < pos + size + 2) return { need: true };
      if (text.slice(pos + size, pos + size + 2) !== '\r\n') return { problem: 'chunk not followed by CRLF' };
      body += text.slice(pos, pos + size);
      pos += size + 2;
    }
  } else if (cl.length) {
    if (!/^(0|[1-9][0-9]*)$/.test(cl[0])) return { problem: `non-canonical Content-Length ${JSON.stringify(cl[0])}` };
    const n = Number(cl[0]);
    if (text.length < pos + n) return { need: true };
    body = text.slice(pos, pos + n);
    pos += n;
  }
  return { req: { method: m[1], path: m[2], headers, body, conn }, used: pos };
}

/**
 * Start the recording backend; closed at teardown. Each request it frames is answered at
 * once with `200` and the body `<METHOD> <path> <body length>` (none for HEAD), so a client
 * can tell which request an answer belongs to. A parse problem answers 400 and closes.
 */
export async function startRecordingBackend(t: { teardown(fn: () => unknown): void }): Promise<RecordingBackend> {
  const sockets = new Set<net.Socket>();
  const be: RecordingBackend = {
    port: 0,
    url: '',
    requests: [],
    problems: [],
    received: [],
    reset() {
      be.requests.length = 0;
      be.problems.length = 0;
    },
  };
  const server = net.createServer((sock) => {
    sockets.add(sock);
    const conn = be.received.length;
    be.received.push(Buffer.alloc(0));
    let pending = Buffer.alloc(0);
    sock.on('error', () => undefined);
    sock.on('close', () => sockets.delete(sock));
    sock.on('data', (chunk: Buffer) => {
      be.received[conn] = Buffer.concat([be.received[conn], chunk]);
      pending = Buffer.concat([pending, chunk]);
      while (pending.length) {
        const r = parseRequest(pending, conn);
        if ('need' in r) return;
        if ('problem' in r) {
          be.problems.push(r.problem);
          sock.end('HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n');
          pending = Buffer.alloc(0);
          return;
        }
        be.requests.push(r.req);
        pending = pending.subarray(r.used);
        const answer = `${r.req.method} ${r.req.path} ${r.req.body.length}`;
        sock.write(
          `HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: ${answer.length}\r\n\r\n${r.req.method === 'HEAD' ? '' : answer}`,
        );
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  be.port = (server.address() as AddressInfo).port;
  be.url = `http://127.0.0.1:${be.port}`;
  t.teardown(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return be;
}

/** One answer as the raw client framed it. */
export interface SeenResponse {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** What a raw client got on one connection. */
export interface RawExchange {
  /** Final answers, in order (1xx interim answers are in `interim`). */
  responses: SeenResponse[];
  interim: number[];
  /** Bytes past the last answer that do not frame as one. */
  leftover: string;
  /** Whether the server closed the connection. */
  closed: boolean;
}

/** Frame the answers in `text` (Content-Length, chunked, or up to the close). */
function parseResponses(text: string, headFirst: boolean, closed: boolean): Omit<RawExchange, 'closed'> {
  const responses: SeenResponse[] = [];
  const interim: number[] = [];
  let pos = 0;
  while (pos < text.length) {
    const end = text.indexOf('\r\n\r\n', pos);
    if (end < 0) break;
    const lines = text.slice(pos, end).split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0]);
    if (!m) break;
    const status = Number(m[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const c = l.indexOf(':');
      headers[l.slice(0, c).toLowerCase()] = l.slice(c + 1).trim();
    }
    let p = end + 4;
    if (status < 200) {
      interim.push(status);
      pos = p;
      continue;
    }
    let body = '';
    if (headFirst && responses.length === 0) {
      /* HEAD: no body */
    } else if (headers['transfer-encoding']) {
      for (;;) {
        const eol = text.indexOf('\r\n', p);
        if (eol < 0) return { responses, interim, leftover: text.slice(pos) };
        const size = parseInt(text.slice(p, eol), 16);
        p = eol + 2;
        if (size === 0) {
          p += 2;
          break;
        }
        body += text.slice(p, p + size);
        p += size + 2;
      }
    } else if (headers['content-length'] !== undefined) {
      const n = Number(headers['content-length']);
      if (text.length < p + n) return { responses, interim, leftover: text.slice(pos) };
      body = text.slice(p, p + n);
      p += n;
    } else if (closed) {
      body = text.slice(p);
      p = text.length;
    } else return { responses, interim, leftover: text.slice(pos) };
    responses.push({ status, headers, body });
    pos = p;
  }
  return { responses, interim, leftover: text.slice(pos) };
}

/** The complete answers in raw text a socket read to its close (1xx interim answers left out). */
export function parseAnswers(text: string): SeenResponse[] {
  return parseResponses(text, false, true).responses;
}

/**
 * Send raw bytes on a fresh connection and collect the answers: until the server closes,
 * or `want` answers have come and `quietMs` more passed without anything else (so an extra
 * answer is seen), or `maxMs` in all.
 */
export function exchange(
  port: number,
  data: string | Buffer,
  o: { want?: number; head?: boolean; quietMs?: number; maxMs?: number } = {},
): Promise<RawExchange> {
  const { want = 1, head = false, quietMs = 120, maxMs = 2000 } = o;
  return new Promise((resolve) => {
    const sock = net.connect(port, '127.0.0.1');
    let text = '';
    let closed = false;
    let quiet: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(quiet);
      clearTimeout(max);
      sock.destroy();
      resolve({ ...parseResponses(text, head, closed), closed });
    };
    const max = setTimeout(finish, maxMs);
    sock.on('data', (c: Buffer) => {
      text += c.toString('latin1');
      clearTimeout(quiet);
      if (parseResponses(text, head, false).responses.length >= want) quiet = setTimeout(finish, quietMs);
    });
    sock.on('end', () => {
      closed = true;
      finish();
    });
    sock.on('close', () => {
      closed = true;
      finish();
    });
    sock.on('error', () => undefined);
    sock.write(data);
  });
}
