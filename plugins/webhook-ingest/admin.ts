import { GatehouseError, type AdminRequest, type AdminRoute, type QueueItem, type QueueStore } from '../../core/plugin-api';
import { errors } from './errors';
import type { StoredMessage } from './message';

/** A message's place in the queue: what a list shows of each and what one message's view starts with. */
function summary(item: QueueItem) {
  const m = item.payload as unknown as Partial<StoredMessage>;
  return {
    id: item.id,
    state: item.state,
    attempts: item.attempts,
    receivedAt: typeof m.receivedAt === 'number' ? new Date(m.receivedAt).toISOString() : null,
    ...(item.state === 'ready' || item.state === 'delayed' ? { nextAttemptAt: new Date(item.dueAt).toISOString() } : {}),
    ...(item.state === 'leased' ? { leaseUntil: new Date(item.dueAt).toISOString() } : {}),
    ...(item.endedAt !== undefined ? { endedAt: new Date(item.endedAt).toISOString() } : {}),
    ...(item.lastError !== undefined ? { lastError: item.lastError } : {}),
    ...(item.group !== undefined ? { group: item.group } : {}),
  };
}

/** A message as the admin API shows it: the body as text when it is UTF-8, else base64. */
function view(item: QueueItem) {
  const m = item.payload as unknown as Partial<StoredMessage>;
  // A payload this plugin did not write (another tool on the store) is shown as far as it goes.
  const body = Buffer.from(typeof m.body === 'string' ? m.body : '', 'base64');
  const text = body.toString('utf8');
  const printable = !text.includes('\ufffd');
  return {
    ...summary(item),
    ...(item.result !== undefined ? { result: item.result } : {}),
    signed: m.signed ?? null,
    path: m.path ?? null,
    contentType: m.contentType ?? null,
    headers: m.headers ?? {},
    size: body.length,
    ...(printable ? { body: text } : { bodyBase64: body.toString('base64') }),
  };
}

/** The states `GET /messages?state=` lists; `open` is every message not yet delivered or dead. */
const LISTED = ['open', 'ready', 'delayed', 'leased', 'dead'] as const;

/**
 * The plugin's admin routes (under /plugins/<instance>): counts and messages by state, one message
 * with its attempts and next attempt time, replay of one or all dead letters, purge.
 */
export function adminRoutes(queue: () => QueueStore, name: string, nudge: () => void): AdminRoute[] {
  const notFound = (id: string) => errors.create('MESSAGE_NOT_FOUND', `No message ${id} in the queue`);
  return [
    {
      method: 'GET',
      path: '/messages',
      async handle(a: AdminRequest) {
        const state = a.query.get('state') ?? 'dead';
        if (!(LISTED as readonly string[]).includes(state))
          throw new GatehouseError('GH_ERR_BAD_REQUEST', `state must be one of ${LISTED.join(', ')}; got ${JSON.stringify(state)}`);
        const limit = Math.min(1000, Math.max(1, Number(a.query.get('limit') ?? 100) || 100));
        const cursor = a.query.get('cursor') ?? undefined;
        const options = { limit, ...(cursor ? { cursor } : {}), ...(state === 'open' ? {} : { state: state as 'ready' }) };
        const [stats, page] = await Promise.all([queue().stats(name), queue().list(name, options)]);
        a.json(200, { stats, state, messages: page.items.map(summary), ...(page.cursor !== undefined ? { cursor: page.cursor } : {}) });
      },
    },
    {
      method: 'GET',
      path: '/messages/:id',
      async handle(a: AdminRequest) {
        const item = await queue().get(name, a.params.id);
        if (!item) throw notFound(a.params.id);
        a.json(200, view(item));
      },
    },
    {
      method: 'POST',
      path: '/messages/:id/replay',
      async handle(a: AdminRequest) {
        if (!(await queue().replay(name, a.params.id))) throw notFound(`${a.params.id} among the dead letters`);
        nudge();
        a.json(200, { replayed: 1 });
      },
    },
    {
      method: 'POST',
      path: '/replay',
      async handle(a: AdminRequest) {
        let replayed = 0;
        for (;;) {
          // Each replay takes the letter off the dead list, so the first page is always the next one.
          const page = await queue().deadLetters(name, { limit: 500 });
          let n = 0;
          for (const d of page.items) if (await queue().replay(name, d.id)) n += 1;
          replayed += n;
          if (n === 0) break;
        }
        nudge();
        a.json(200, { replayed });
      },
    },
    {
      method: 'DELETE',
      path: '/messages/:id',
      async handle(a: AdminRequest) {
        if ((await queue().purge(name, a.params.id)) === 0) throw notFound(`${a.params.id} among the dead letters`);
        a.json(200, { purged: 1 });
      },
    },
    {
      method: 'DELETE',
      path: '/messages',
      async handle(a: AdminRequest) {
        a.json(200, { purged: await queue().purge(name) });
      },
    },
  ];
}
