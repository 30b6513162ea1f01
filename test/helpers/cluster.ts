import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { request } from './servers';
import { startGatehouse, tempDir, type GatehouseProcess } from './gatehouse-process';

export const CLUSTER_TOKEN = 'workers-test-token-0123456789';

/** A `gatehouse start` child process with `server.workers` above 1, and ways to reach it. */
export interface Cluster {
  readonly gh: GatehouseProcess;
  readonly dir: string;
  readonly file: string;
  /** Base URL of the proxy listener. */
  readonly url: string;
  /** Write the config file again (for a reload). */
  write(config: Record<string, unknown>): void;
  /** A request to the primary's admin listener, with the token. */
  admin(path: string, opts?: { method?: string; body?: string }): ReturnType<typeof request>;
  /** Worker ids and pids the primary announced ('worker started'), in order. */
  started(): { id: number; pid: number; slot: number }[];
}

/**
 * Start `gatehouse start` on `config` (its server block gets `http` on port 0, the admin block
 * and `workers: 2` unless set) in a temp dir holding `files` (custom plugins), and wait until
 * the primary says it listens (every worker listens by then).
 */
export async function startCluster(
  t: Parameters<typeof tempDir>[0] & { teardown(fn: () => void | Promise<void>): void },
  config: Record<string, any>,
  files: Record<string, string> = {},
): Promise<Cluster> {
  const dir = tempDir(t, 'gatehouse-workers-');
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  const file = join(dir, 'gatehouse.json');
  const full = (c: Record<string, any>) => ({
    ...c,
    server: { http: { port: 0, host: '127.0.0.1' }, workers: 2, ...c.server },
    admin: { port: 0, token: CLUSTER_TOKEN },
  });
  const write = (c: Record<string, unknown>) => writeFileSync(file, JSON.stringify(full(c), null, 2));
  write(config);
  // Without tap's loaders (NODE_OPTIONS), which every forked worker would load again; three
  // node start-ups on a loaded machine take a while.
  const gh = await startGatehouse(t, file, { cwd: dir, env: { NODE_OPTIONS: '' }, listenMs: 60000 });
  const adminUrl = `http://127.0.0.1:${gh.adminPort}`;
  return {
    gh,
    dir,
    file,
    url: `http://127.0.0.1:${gh.port}`,
    write,
    admin: (path, opts = {}) =>
      request(`${adminUrl}${path}`, { method: opts.method, body: opts.body, headers: { authorization: `Bearer ${CLUSTER_TOKEN}` } }),
    started: () => gh.logs.filter((l) => l.msg === 'worker started').map((l) => ({ id: l.workerId, pid: l.pid, slot: l.slot })),
  };
}

/** The sum of every series of `name` in a Prometheus text exposition. */
export function metricSum(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const m = /^([a-z_]+)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m && m[1] === name) sum += Number(m[3]);
  }
  return sum;
}
