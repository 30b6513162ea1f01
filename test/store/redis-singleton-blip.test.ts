import { rmSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { createGateway, definePlugin, type Gateway } from '../../app';
import { startRedis } from '../helpers/redis';
import { captureLogger } from '../helpers/servers';

/**
 * A singleton across a short Redis blip that loses its data (a new empty server, or a failover to
 * a replica without the last lock write): the lock key is gone when Redis answers again, so
 * another gateway may take it at its next try. The holder must have stopped by then: it aborts
 * its run when its store connection closes, since it can no longer prove it holds the lock.
 */

/** Each gateway's runs as [start, end] (end Infinity while running). */
const runs = new Map<string, [number, number][]>();

const probe = definePlugin({
  name: 'blip-probe',
  schema: { type: 'object', properties: { who: { type: 'string' } }, required: ['who'], additionalProperties: false },
  create(options: { who: string }, scope) {
    scope.task(
      'lead',
      async (signal) => {
        const mine = runs.get(options.who) ?? [];
        runs.set(options.who, mine);
        const run: [number, number] = [Date.now(), Infinity];
        mine.push(run);
        await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
        run[1] = Date.now();
      },
      { singleton: true },
    );
    return {};
  },
});

const running = (who: string) => (runs.get(who) ?? []).some(([, end]) => end === Infinity);

function overlapMs(): number {
  const [a = [], b = []] = [runs.get('a'), runs.get('b')];
  let ms = 0;
  for (const [s1, e1] of a) for (const [s2, e2] of b) ms += Math.max(0, Math.min(e1, e2, Date.now()) - Math.max(s1, s2));
  return ms;
}

async function until(what: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end && !what()) await new Promise((r) => setTimeout(r, 20));
  return what();
}

const ROUNDS = Number(process.env.GATEHOUSE_BLIP_ROUNDS ?? 3);

t.test(`a Redis restarted empty after a blip: the singleton never runs twice at once (${ROUNDS} rounds)`, async (t) => {
  t.setTimeout(60000 + ROUNDS * 20000);
  const srv = await startRedis(t);
  if (!srv) return;
  const make = async (who: string): Promise<Gateway> => {
    const gw = await createGateway({
      config: {
        server: { http: { port: 0, host: '127.0.0.1' } },
        store: { url: srv.url, prefix: 'blip:' },
        routes: [{ match: { path: '/' }, plugins: [{ 'blip-probe': { who } }] }],
      },
      plugins: [probe],
      logger: captureLogger('error').logger,
    });
    t.teardown(() => gw.close(100));
    return gw;
  };
  await make('a');
  // b's tries come half a renewal period after a's renewals, as between instances started apart.
  await until(() => running('a'), 20000);
  await new Promise((r) => setTimeout(r, 1700));
  await make('b');
  let before = 0;
  for (let round = 0; round < ROUNDS; round++) {
    t.ok(await until(() => running('a') || running('b'), 20000), `round ${round}: one gateway runs the task`);
    // At a random point of the renewal period (so that the other's next try sometimes comes
    // before the holder's next renewal): kill, lose the data, and start again at once.
    await new Promise((r) => setTimeout(r, Math.random() * 3400));
    await srv.kill();
    rmSync(join(srv.dir, 'appendonlydir'), { recursive: true, force: true });
    await srv.restart();
    // Long enough for the other's next try (3.3 s) and the holder's next renewal (3.3 s).
    await new Promise((r) => setTimeout(r, 8000));
    const overlap = overlapMs() - before;
    before += overlap;
    t.equal(overlap, 0, `round ${round}: never both at once (overlap ${overlap} ms)`);
  }
  t.ok(await until(() => running('a') !== running('b'), 15000), 'one runs it in the end');
});
