import { parseArgs } from 'node:util';
import { ADMIN_OPTIONS, adminTarget } from './admin-target';

/** Exit codes of `gatehouse webhooks`, as `gatehouse registry`'s: scripts tell "absent" from "broken". */
export const WEBHOOKS_EXIT = { ok: 0, notFound: 1, usage: 2, unreachable: 3 } as const;

const USAGE = `Usage: gatehouse webhooks <list|show|replay|purge> [id] --instance ID [options]

  list               queue counts and the dead letters (--state for others)
  show <id>          one message: state, attempts, next attempt, last error, body
  replay <id>        a dead letter is delivered again (attempts from 0)
  replay --all       every dead letter
  purge <id>         forget one dead letter
  purge --all        forget every dead letter

Options:
  --instance ID      the webhook-ingest declaration (its id:, or webhook-ingest#N)
  --admin URL        the gatehouse admin listener (or GATEHOUSE_ADMIN_URL; default http://127.0.0.1:9901)
  --token-file FILE  a file holding the admin token (or GATEHOUSE_ADMIN_TOKEN; never on the command line)
  --state STATE      what list shows: dead (default), open, ready, delayed or leased
  --all              replay or purge every dead letter
  --json             print the admin API's JSON

Exit: 0 ok, 1 no such message, 2 usage, 3 unreachable or refused.`;

type Out = { log(s: string): void; error(s: string): void };

/** What one admin call needs: where, which verb and path, and how to print the answer. */
function request(verb: string, id: string | undefined, all: boolean, state?: string): { method: string; path: string } | undefined {
  const one = id !== undefined && !all;
  const enc = one ? encodeURIComponent(id) : '';
  if (verb === 'list' && id === undefined)
    return { method: 'GET', path: state ? `/messages?state=${encodeURIComponent(state)}` : '/messages' };
  if (verb === 'show' && one) return { method: 'GET', path: `/messages/${enc}` };
  if (verb === 'replay' && one) return { method: 'POST', path: `/messages/${enc}/replay` };
  if (verb === 'replay' && all && id === undefined) return { method: 'POST', path: '/replay' };
  if (verb === 'purge' && one) return { method: 'DELETE', path: `/messages/${enc}` };
  if (verb === 'purge' && all && id === undefined) return { method: 'DELETE', path: '/messages' };
  return undefined;
}

/** The answer as people read it (JSON with --json). */
function print(out: Out, verb: string, body: Record<string, any>, json: boolean): void {
  if (json || verb === 'show') return out.log(JSON.stringify(body, null, 2));
  if (verb === 'list') {
    const s = body.stats;
    out.log(`ready ${s.ready}  delayed ${s.delayed}  leased ${s.leased}  dead ${s.dead}  oldest ${Math.round(s.oldestAgeMs / 1000)}s`);
    for (const m of body.messages) {
      const when = m.endedAt ?? m.nextAttemptAt ?? m.leaseUntil ?? '';
      out.log(`${m.id}\t${m.state}\t${when}\t${m.attempts} attempts\t${m.lastError ?? ''}`);
    }
    return;
  }
  out.log(verb === 'replay' ? `replayed ${body.replayed}` : `purged ${body.purged}`);
}

/** `gatehouse webhooks …` against a running gatehouse's admin API; resolves with the exit code. */
export async function webhooksCli(argv: string[], out: Out, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        instance: { type: 'string' },
        ...ADMIN_OPTIONS,
        all: { type: 'boolean' },
        state: { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    out.error(`gatehouse webhooks: ${(err as Error).message}\n\n${USAGE}`);
    return WEBHOOKS_EXIT.usage;
  }
  const flags = parsed.values;
  const [verb, id, extra] = parsed.positionals;
  if (flags.help) return (out.log(USAGE), WEBHOOKS_EXIT.ok);
  const call = verb === undefined || extra !== undefined ? undefined : request(verb, id, flags.all === true, flags.state);
  if (!call || !flags.instance) {
    out.error(`gatehouse webhooks: ${flags.instance || !call ? 'missing or bad arguments' : '--instance is required'}\n\n${USAGE}`);
    return WEBHOOKS_EXIT.usage;
  }
  const target = adminTarget(flags, env);
  if ('problem' in target) {
    out.error(`gatehouse webhooks: ${target.problem}`);
    return WEBHOOKS_EXIT.usage;
  }
  const { url: base, token } = target;
  const url = `${base}/plugins/${encodeURIComponent(flags.instance)}${call.path}`;
  let res: Response;
  try {
    res = await fetch(url, { method: call.method, headers: { authorization: `Bearer ${token}` } });
  } catch (err) {
    out.error(
      `gatehouse webhooks: ${base} cannot be reached: ${(err as Error & { cause?: Error }).cause?.message ?? (err as Error).message}`,
    );
    return WEBHOOKS_EXIT.unreachable;
  }
  const text = await res.text();
  let body: Record<string, any>;
  try {
    body = JSON.parse(text);
  } catch {
    out.error(`gatehouse webhooks: ${res.status} from ${url}: ${text.slice(0, 200)}`);
    return WEBHOOKS_EXIT.unreachable;
  }
  if (res.ok) return (print(out, verb, body, flags.json === true), WEBHOOKS_EXIT.ok);
  out.error(`gatehouse webhooks: ${body.error?.code ?? res.status}: ${body.error?.message ?? text}`);
  if (res.status === 404) return WEBHOOKS_EXIT.notFound;
  return res.status === 400 ? WEBHOOKS_EXIT.usage : WEBHOOKS_EXIT.unreachable;
}
