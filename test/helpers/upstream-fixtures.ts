import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createGateway, definePlugin, type Gateway, type PluginScope } from '../../app';
import { startBackend, testLogger } from './servers';
import { tempDir } from './gatehouse-process';

type Teardown = { teardown(fn: () => unknown): void };

/** A backend that answers its name (and the path), counting requests and its own concurrency. */
export async function namedBackend(
  t: Teardown,
  name: string,
  opts: { delayMs?: number | ((req: http.IncomingMessage) => number); status?: number } = {},
) {
  const stats = { name, count: 0, active: 0, maxActive: 0, methods: [] as string[] };
  const be = await startBackend(t, (req, res) => {
    stats.count++;
    stats.active++;
    stats.maxActive = Math.max(stats.maxActive, stats.active);
    stats.methods.push(req.method!);
    const delay = typeof opts.delayMs === 'function' ? opts.delayMs(req) : (opts.delayMs ?? 0);
    req.resume();
    // Counted out when it answers (before its bytes leave) or when the request is given up.
    let inside = true;
    const leave = () => {
      if (inside) stats.active--;
      inside = false;
    };
    res.on('close', leave);
    const answer = () => {
      if (res.destroyed) return;
      leave();
      res.writeHead(opts.status ?? 200, { 'content-type': 'text/plain', 'x-backend': name }).end(name);
    };
    if (delay > 0) setTimeout(answer, delay);
    else answer();
  });
  return Object.assign(stats, { url: be.url, port: be.port, server: be.server });
}

/** A plugin that provides the named upstreams and hands its scope to the test. */
export function providerPlugin(names: readonly string[]) {
  const seen: { scope?: PluginScope } = {};
  const definition = definePlugin<Record<string, never>>({
    name: 'test-provider',
    schema: { type: 'object', additionalProperties: false },
    provides: () => names,
    create(_o, scope) {
      seen.scope = scope;
      return {};
    },
  });
  return { definition, scope: () => seen.scope! };
}

/**
 * A gateway from a config file (so that it can be rewritten and reloaded), listening on port 0,
 * closed with `t`. `write(config)` rewrites the file.
 */
export async function fileGateway(
  t: Teardown,
  config: Record<string, any>,
  plugins: readonly any[] = [],
  opts: { logger?: import('pino').Logger } = {},
) {
  const dir = tempDir(t);
  const file = join(dir, 'gatehouse.json');
  const full = (c: Record<string, any>) => ({ server: { http: { port: 0, host: '127.0.0.1' } }, log: { accessLog: false }, ...c });
  const write = (c: Record<string, any>) => writeFileSync(file, JSON.stringify(full(c), null, 2));
  write(config);
  const gw: Gateway = await createGateway({ config: file, logger: opts.logger ?? testLogger(), plugins });
  await gw.listen();
  t.teardown(() => gw.close(100));
  return { gw, url: `http://127.0.0.1:${gw.addresses.http!.port}`, write };
}

/** GET `n` times (at most `concurrency` at once) and count answers by body. */
export async function tally(
  url: string,
  n: number,
  opts: { concurrency?: number; headers?: (i: number) => http.OutgoingHttpHeaders } = {},
) {
  const counts: Record<string, number> = {};
  const agent = new http.Agent({ keepAlive: true, maxSockets: opts.concurrency ?? 8 });
  let next = 0;
  const one = (): Promise<void> => {
    const i = next++;
    if (i >= n) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      http
        .get(url, { agent, headers: opts.headers?.(i) }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const key = res.statusCode === 200 ? Buffer.concat(chunks).toString() : `status ${res.statusCode}`;
            counts[key] = (counts[key] ?? 0) + 1;
            resolve();
          });
        })
        .on('error', reject);
    }).then(one);
  };
  await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, one));
  agent.destroy();
  return counts;
}
