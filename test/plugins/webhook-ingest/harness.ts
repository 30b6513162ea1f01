import http from 'node:http';
import { join } from 'node:path';
import type { Gateway } from '../../../app';
import { tempDir, until } from '../../helpers/gatehouse-process';
import { request, startGateway } from '../../helpers/servers';
import fixture from './fixtures/mo-2023-09-05.json';

export const TOKEN = 'webhook-admin-token-of-32-chars!';
export const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
export const ROCKBLOCK_BODY = new URLSearchParams(fixture.fields).toString();

/** One request as the recording backend saw it. */
export interface Received {
  readonly url: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
  /** Epoch ms it arrived. */
  readonly at: number;
}

/**
 * A backend on a port of its own that records every request and answers what `answer` says
 * (200 by default). `stop()` closes it and `start()` opens it again on the same port.
 */
export async function recordingBackend(t: { teardown(fn: () => Promise<void>): void }, port = 0) {
  const seen: Received[] = [];
  let answer: (
    r: Received,
    n: number,
  ) => { status: number; headers?: Record<string, string> } | Promise<{ status: number; headers?: Record<string, string> }> = () => ({
    status: 200,
  });
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const r = { url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString(), at: Date.now() };
      seen.push(r);
      void Promise.resolve(answer(r, seen.length)).then(({ status, headers }) => {
        res.writeHead(status, headers);
        res.end();
      });
    });
  });
  const listen = (p: number) => new Promise<void>((r) => server.listen(p, '127.0.0.1', r));
  const close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  await listen(port);
  const actual = (server.address() as { port: number }).port;
  t.teardown(async () => {
    if (server.listening) await close();
  });
  return {
    seen,
    port: actual,
    url: `http://127.0.0.1:${actual}`,
    answer(fn: typeof answer) {
      answer = fn;
    },
    stop: close,
    start: () => listen(actual),
  };
}

/**
 * A gateway with a SQLite store in a temp dir, the plugin on POST /rockblock/incoming delivering
 * to upstream `be`: `backend`'s URL as its one target, or an upstream config of its own.
 */
export async function webhookGateway(
  t: { teardown(fn: () => Promise<void> | void): void },
  backend: string | Record<string, unknown>,
  options: Record<string, unknown> = {},
  path = '/rockblock/incoming',
  /** Share this directory's store (another gatehouse on the same file); default a fresh one. */
  shared?: string,
): Promise<{ gw: Gateway; url: string; admin: string; dir: string }> {
  const dir = shared ?? tempDir(t, 'webhook-ingest-');
  const { deliver, ...rest } = options as { deliver?: Record<string, unknown> };
  const started = await startGateway(t, {
    store: `sqlite:${join(dir, 'gatehouse.db')}`,
    admin: { token: TOKEN, host: '127.0.0.1' },
    log: { accessLog: false },
    upstreams: { be: typeof backend === 'string' ? { targets: [backend] } : backend },
    routes: [
      {
        match: { pathExact: path },
        plugins: [{ 'webhook-ingest': { preset: 'rockblock', deliver: { upstream: 'be', pollMs: 20, ...deliver }, ...rest }, id: 'hook' }],
      },
    ],
  });
  return { gw: started.gw, url: `${started.url}${path}`, admin: `${started.adminUrl}/plugins/hook`, dir };
}

/** POST a body; resolves with the answer. */
export const post = (url: string, body: string | Buffer, headers: Record<string, string> = FORM) =>
  request(url, { method: 'POST', headers, body });

/** Call the plugin's admin API. */
export async function admin(base: string, method: string, path: string): Promise<{ status: number; json: any }> {
  const r = await request(`${base}${path}`, { method, headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: r.status, json: r.body ? JSON.parse(r.body) : undefined };
}

/** Wait until `fn` holds, failing after `ms`. */
export const eventually = (fn: () => boolean | Promise<boolean>, ms = 10000) => until(async () => fn(), ms, 20);

/** A RockBLOCK-like unsigned form post for device `imei`, message `momsn`. */
export function moPost(imei: string, momsn: number): string {
  return new URLSearchParams({
    imei,
    momsn: String(momsn),
    transmit_time: '26-12-02 01:00:00',
    serial: '1',
    device_type: 'ROCKBLOCK',
    iridium_latitude: '1.0',
    iridium_longitude: '2.0',
    iridium_cep: '3',
    data: Buffer.from(`m${momsn}`).toString('hex'),
  }).toString();
}
