import { readFileSync } from 'node:fs';
import { ADMIN_OPTIONS, adminTarget } from './admin-target';
import { parseArgs } from 'node:util';
import { RegistryClient, RegistryClientError } from '../core/registry/client';
import type { ServiceView } from '../core/registry/info';

/** Exit codes of `gatehouse registry`: scripts tell "absent" from "broken". */
export const REGISTRY_EXIT = { ok: 0, notFound: 1, usage: 2, unreachable: 3 } as const;

const USAGE = `Usage: gatehouse registry <add|get|list|delete|heartbeat|watch> [args] [options]

  add <name> <info.json|->   add or overwrite an entry (ServiceInfo JSON: a file, or - for stdin)
  get <name>                 show one entry
  list [--prefix P] [--tag T]
  delete <name>
  heartbeat <name>           renew the entry's lease (ttlMs)
  watch                      print the registry now and after every change (Ctrl-C stops)

Options:
  --admin URL        the gatehouse admin listener (or GATEHOUSE_ADMIN_URL; default http://127.0.0.1:9901)
  --token-file FILE  a file holding the admin token (or GATEHOUSE_ADMIN_TOKEN; never on the command line)
  --json             print JSON
  --compat physarum  print PhysarumSM registry answers (Added {…}, Deleted 1 entry from hash lookup, …)

Exit: 0 ok, 1 not found / nothing deleted, 2 usage, 3 unreachable or refused.`;

type Out = { log(s: string): void; error(s: string): void };

interface Flags {
  admin?: string;
  'token-file'?: string;
  json?: boolean;
  compat?: string;
  prefix?: string;
  tag?: string;
  help?: boolean;
}

/** The original's InfoStr: the entry's ServiceInfo as a JSON string. */
const infoStr = (s: ServiceView) => JSON.stringify(s.info);

function printOne(out: Out, s: ServiceView, flags: Flags, verb: string): void {
  if (flags.compat === 'physarum')
    out.log(verb === 'add' ? `Added {${s.name}: ${infoStr(s)}}` : JSON.stringify({ InfoStr: infoStr(s), LookupOk: true }));
  else if (flags.json) out.log(JSON.stringify(s, null, 2));
  else
    out.log(
      `${s.name}\t${s.status}${s.leaseLeftMs === undefined ? '' : `\tlease ${Math.round(s.leaseLeftMs / 1000)}s`}\t${(s.info.targets ?? []).map((t) => (typeof t === 'string' ? t : t.url)).join(',')}`,
    );
}

function printMany(out: Out, list: ServiceView[], flags: Flags): void {
  if (flags.compat === 'physarum')
    out.log(JSON.stringify({ NameToInfoStr: Object.fromEntries(list.map((s) => [s.name, infoStr(s)])), LookupOk: true }));
  else if (flags.json) out.log(JSON.stringify(list, null, 2));
  else for (const s of list) printOne(out, s, flags, 'list');
}

/** `gatehouse registry …`; resolves with the exit code. */
export async function registryCli(argv: string[], out: Out, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        ...ADMIN_OPTIONS,
        json: { type: 'boolean' },
        compat: { type: 'string' },
        prefix: { type: 'string' },
        tag: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    out.error(`gatehouse registry: ${(err as Error).message}\n\n${USAGE}`);
    return REGISTRY_EXIT.usage;
  }
  const flags: Flags = parsed.values;
  const [verb, name, file] = parsed.positionals;
  if (flags.help || verb === undefined) {
    (flags.help ? out.log : out.error)(USAGE);
    return flags.help ? REGISTRY_EXIT.ok : REGISTRY_EXIT.usage;
  }
  const needsName = ['add', 'get', 'delete', 'heartbeat'].includes(verb);
  const known = needsName || verb === 'list' || verb === 'watch';
  if (!known || (needsName && !name) || (verb === 'add' && !file) || (flags.compat !== undefined && flags.compat !== 'physarum')) {
    out.error(`gatehouse registry: ${known ? 'missing or bad arguments' : `unknown command "${verb}"`}\n\n${USAGE}`);
    return REGISTRY_EXIT.usage;
  }
  const target = adminTarget(flags, env);
  if ('problem' in target) {
    out.error(`gatehouse registry: ${target.problem}`);
    return REGISTRY_EXIT.usage;
  }
  const client = new RegistryClient({ adminUrl: target.url, token: target.token });
  try {
    return await run(client, verb, name, file, flags, out);
  } catch (err) {
    if (!(err instanceof RegistryClientError)) throw err;
    out.error(`gatehouse registry: ${err.code}: ${err.message}`);
    if (err.status === 404) return REGISTRY_EXIT.notFound;
    return err.status === 400 ? REGISTRY_EXIT.usage : REGISTRY_EXIT.unreachable;
  }
}

async function run(client: RegistryClient, verb: string, name: string, file: string | undefined, flags: Flags, out: Out): Promise<number> {
  switch (verb) {
    case 'add': {
      let info: unknown;
      try {
        info = JSON.parse(readFileSync(file === '-' ? 0 : file!, 'utf8'));
      } catch (err) {
        out.error(`gatehouse registry add: ${file === '-' ? 'stdin' : file} is not readable JSON: ${(err as Error).message}`);
        return REGISTRY_EXIT.usage;
      }
      printOne(out, await client.add(name, info as never), flags, 'add');
      return REGISTRY_EXIT.ok;
    }
    case 'get': {
      const s = await client.get(name);
      if (!s) {
        if (flags.compat === 'physarum') out.log(JSON.stringify({ InfoStr: '', LookupOk: false }));
        else out.error(`gatehouse registry get: no service named ${JSON.stringify(name.trim())}`);
        return REGISTRY_EXIT.notFound;
      }
      printOne(out, s, flags, 'get');
      return REGISTRY_EXIT.ok;
    }
    case 'list':
      printMany(out, await client.list({ prefix: flags.prefix, tag: flags.tag }), flags);
      return REGISTRY_EXIT.ok;
    case 'delete': {
      const deleted = await client.delete(name);
      if (flags.compat === 'physarum')
        out.log(deleted ? 'Deleted 1 entry from hash lookup' : 'Error: Failed to delete any entries from hash lookup');
      else if (flags.json) out.log(JSON.stringify({ deleted: deleted ? 1 : 0 }));
      else
        (deleted ? out.log : out.error)(
          deleted ? `deleted ${name.trim()}` : `gatehouse registry delete: no service named ${JSON.stringify(name.trim())}`,
        );
      return deleted ? REGISTRY_EXIT.ok : REGISTRY_EXIT.notFound;
    }
    case 'heartbeat':
      printOne(out, await client.heartbeat(name), flags, 'heartbeat');
      return REGISTRY_EXIT.ok;
    default: {
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      try {
        for await (const snapshot of client.watch({ signal: stop.signal })) {
          if (flags.json) out.log(JSON.stringify(snapshot));
          else printMany(out, snapshot.services, flags);
        }
      } catch (err) {
        if (!stop.signal.aborted) throw err;
      }
      return REGISTRY_EXIT.ok;
    }
  }
}
