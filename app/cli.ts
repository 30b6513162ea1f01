import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { fullSchema } from '../core/config/full-schema';
import { GatehouseError } from '../core/errors';
import { errorCatalogueMarkdown } from '../core/errors-doc';
import { builtinPlugins } from '../plugins';
import { loadConfig } from './index';
import { registryCli } from './cli-registry';
import { webhooksCli } from './cli-webhooks';
import { generateCertificate, writeCertificate } from '../core/server/tls';
import cluster from 'node:cluster';
import { gatewayFrom } from '../core/server/gateway';
import { runPrimary } from '../core/server/cluster-primary';
import { runWorker } from '../core/server/cluster-worker';
import { workerCount } from '../core/server/worker-count';

const HELP: Record<string, string> = {
  main: `gatehouse — a programmable reverse proxy

Usage: gatehouse <command> [options]

Commands:
  start      run the proxy
  validate   check a config file and exit
  schema     print the config JSON schema
  cert       make a self-signed certificate
  errors     print the error code catalogue (markdown)
  registry   add, get, list, delete, heartbeat, watch services (of a running gatehouse)
  webhooks   list, show, replay, purge webhook-ingest messages (of a running gatehouse)

Run 'gatehouse <command> --help' for a command's options.`,
  start: `Usage: gatehouse start [-c FILE]

Runs the proxy. Without -c the config is searched for in the current directory
(gatehouse.yaml, gatehouse.yml, gatehouse.json, .gatehouserc*, gatehouse.config.*).
SIGHUP reloads the config (an invalid one is refused and the old one kept);
SIGUSR1 reopens the access log file (log.accessLog.file), for logrotate;
SIGTERM/SIGINT drain in-flight requests for server.shutdownGrace ms, then exit 0.
With server.workers above 1 this process is the cluster primary: it forks the
workers, keeps the admin API, and passes each signal on (SIGHUP after it has
validated the config once); see docs/workers.md.`,
  validate: `Usage: gatehouse validate [-c FILE]

Checks the config and every plugin's options. Exit 0 when valid; exit 1 with
each problem (file:line:column /json/path: message) otherwise.`,
  schema: `Usage: gatehouse schema

Prints the JSON schema of the config (core plus built-in plugins) to stdout.`,
  errors: `Usage: gatehouse errors

Prints every error code of core and the built-in plugins, with its HTTP status,
default message, and when it happens and what to do, as markdown (docs/errors.md).`,
  cert: `Usage: gatehouse cert --host NAME [--san-ip IP ...] [--san-dns NAME ...] [--days N] [--out DIR]

Writes a self-signed RSA-2048/SHA-256 certificate (cert.pem) and key (key.pem)
to DIR (default: current directory) and prints the SHA-256 fingerprint.
--days defaults to 3650 (10 years).`,
};

type Out = { log(s: string): void; error(s: string): void };

/** Run the CLI; resolves with the exit code (start resolves only when stopped). */
export async function main(argv: string[], out: Out = console): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    out.log(HELP.main);
    return command ? 0 : 1;
  }
  // Its own arguments and exit codes (0, 1 not found, 2 usage, 3 unreachable): see app/cli-registry.ts.
  if (command === 'registry') return registryCli(rest, out);
  if (command === 'webhooks') return webhooksCli(rest, out);
  if (!HELP[command] || command === 'main') {
    out.error(`gatehouse: unknown command "${command}"\n\n${HELP.main}`);
    return 1;
  }
  let args;
  try {
    args = parseArgs({
      args: rest,
      options: {
        help: { type: 'boolean', short: 'h' },
        config: { type: 'string', short: 'c' },
        host: { type: 'string' },
        'san-ip': { type: 'string', multiple: true },
        'san-dns': { type: 'string', multiple: true },
        days: { type: 'string' },
        out: { type: 'string' },
      },
      strict: true,
    }).values;
  } catch (err) {
    out.error(`gatehouse ${command}: ${(err as Error).message}\n\n${HELP[command]}`);
    return 1;
  }
  if (args.help) {
    out.log(HELP[command]);
    return 0;
  }
  try {
    switch (command) {
      case 'validate': {
        const loaded = await loadConfig(args.config);
        out.log(`${loaded.file}: valid (${loaded.config.routes.length} routes, ${Object.keys(loaded.config.upstreams).length} upstreams)`);
        return 0;
      }
      case 'schema':
        out.log(JSON.stringify(fullSchema(builtinPlugins), null, 2));
        return 0;
      case 'cert':
        return await cert(args, out);
      case 'errors':
        out.log(errorCatalogueMarkdown(builtinPlugins).trimEnd());
        return 0;
      case 'start':
        return await start(args.config, out);
    }
  } catch (err) {
    out.error(describeFailure(err));
    return 1;
  }
  return 1;
}

/**
 * One message for an operator, never a stack trace: a catalogued error as `CODE: message`;
 * anything else is a gatehouse bug, reported as GH_ERR_INTERNAL with the place it was thrown.
 */
export function describeFailure(err: unknown): string {
  if (err instanceof GatehouseError) return `${err.code}: ${err.message}`;
  const e = err instanceof Error ? err : new Error(String(err));
  const at = e.stack
    ?.split('\n')
    .find((l) => /^\s+at /.test(l))
    ?.trim();
  return `GH_ERR_INTERNAL: unexpected ${e.name}: ${e.message}${at ? ` (${at}; please report it)` : ''}`;
}

async function cert(
  args: { host?: string; 'san-ip'?: string[]; 'san-dns'?: string[]; days?: string; out?: string },
  out: Out,
): Promise<number> {
  if (!args.host) {
    out.error(`gatehouse cert: --host is required\n\n${HELP.cert}`);
    return 1;
  }
  const days = args.days === undefined ? 3650 : Number(args.days);
  if (!Number.isInteger(days) || days < 1 || days > 36500) {
    out.error(`gatehouse cert: --days must be a whole number from 1 to 36500 (100 years), got ${args.days}`);
    return 1;
  }
  const pair = await generateCertificate({ host: args.host, sanIps: args['san-ip'], sanDns: args['san-dns'], days });
  const files = writeCertificate(resolve(args.out ?? '.'), pair);
  out.log(`certificate: ${files.certFile}\nkey:         ${files.keyFile}\nsha256:      ${pair.fingerprint}`);
  return 0;
}

async function start(config: string | undefined, out: Out): Promise<number> {
  // A cluster worker runs this same command (node:cluster forks the primary's argv).
  if (cluster.isWorker) return runWorker({ config, plugins: builtinPlugins }, describeFailure);
  const loaded = await loadConfig(config);
  const workers = workerCount(loaded.config.server.workers);
  if (workers > 1) return runPrimary(loaded, workers, { config, plugins: builtinPlugins }, out);
  const gw = await gatewayFrom(loaded, { config, plugins: builtinPlugins });
  await gw.listen();
  return new Promise((resolveExit) => {
    process.on('SIGHUP', () => void gw.reload().catch(() => undefined));
    // As nginx: logrotate moves the file, then SIGUSR1 makes the access log write a new one.
    process.on('SIGUSR1', () => gw.reopenLogs());
    const stop = (signal: string) => {
      gw.logger.info({ signal }, 'shutting down');
      void gw.close().then(
        () => resolveExit(0),
        () => resolveExit(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}
