import t, { type Test } from 'tap';
import { createGateway, definePlugin } from '../../app';
import { captureLogger, request } from '../helpers/servers';
import { until } from '../helpers/gatehouse-process';

/**
 * A plugin whose requests start in-flight work (`scope.inflight`) and answer at once: `GET
 * /work?ms=N` works N ms (or, with `&stubborn`, ignores the shutdown signal). Each event is
 * recorded as "<generation>:<event>".
 */
function probe(events: string[]) {
  let generation = 0;
  return definePlugin<Record<string, never>>({
    name: 'inflight-probe',
    schema: { type: 'object', additionalProperties: false },
    create(_o, scope) {
      const g = ++generation;
      const rec = (e: string) => events.push(`${g}:${e}`);
      return {
        handle(ctx) {
          const ms = Number(ctx.query.get('ms') ?? 0);
          const stubborn = ctx.query.has('stubborn');
          void scope.inflight(async (signal) => {
            rec('work');
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, ms);
              if (!stubborn)
                signal.addEventListener('abort', () => {
                  rec(`aborted(${String(signal.reason)})`);
                  clearTimeout(timer);
                  // Settles a little after the abort, as work handing its job back would.
                  setTimeout(resolve, 30);
                });
            });
            rec('done');
          });
          ctx.json(202, { generation: g });
        },
        stop() {
          rec('stop');
        },
      };
    },
  });
}

async function gateway(t: Test, pluginTimeout = 2000) {
  const events: string[] = [];
  const { logger, lines } = captureLogger();
  const gw = await createGateway({
    config: {
      server: { http: { port: 0, host: '127.0.0.1' }, pluginTimeout },
      log: { accessLog: false },
      routes: [{ match: { path: '/' }, plugins: [{ 'inflight-probe': {} }] }],
    },
    logger,
    plugins: [probe(events)],
  });
  await gw.listen();
  t.teardown(() => gw.close(50));
  const url = `http://127.0.0.1:${gw.addresses.http!.port}`;
  return { gw, events, lines, work: (q: string) => request(`${url}/work?${q}`) };
}

t.test('a reload lets in-flight work finish; the retired generation stops after it', async (t) => {
  const { gw, events, work } = await gateway(t);
  t.equal((await work('ms=400')).status, 202);
  await gw.reload();
  t.same(JSON.parse((await work('ms=0')).body), { generation: 2 }, 'the new generation serves at once');
  await until(async () => events.includes('2:done'));
  t.same(events, ['1:work', '2:work', '2:done'], 'the old work goes on, its plugin not stopped yet');
  await until(async () => events.includes('1:stop'));
  t.same(events.slice(3), ['1:done', '1:stop'], 'its plugin stops once the work is done; no abort');
});

t.test('a shutdown aborts in-flight work of every generation after the grace, and waits for it before the plugins stop', async (t) => {
  const { gw, events, work } = await gateway(t);
  await work('ms=60000');
  await gw.reload();
  await work('ms=60000');
  await gw.close(50);
  const reason = 'aborted(gatehouse shutting down)';
  t.same(events.slice(0, 2), ['1:work', '2:work']);
  for (const g of [1, 2]) {
    const mine = events.filter((e) => e.startsWith(`${g}:`)).slice(1);
    t.same(mine, [`${g}:${reason}`, `${g}:done`, `${g}:stop`], `generation ${g}: aborted, settled, then stopped`);
  }
});

t.test('work that ignores the shutdown is given server.pluginTimeout, then the plugins stop all the same', async (t) => {
  const { gw, events, lines, work } = await gateway(t, 300);
  await work('ms=2500&stubborn');
  const at = Date.now();
  await gw.close(50);
  const took = Date.now() - at;
  t.ok(took >= 300 && took < 2000, `the close took ${took} ms`);
  t.same(events, ['1:work', '1:stop']);
  t.ok(
    lines.some((l) => /in-flight work did not settle within server.pluginTimeout/.test(l.msg)),
    'the overrun is logged',
  );
});
