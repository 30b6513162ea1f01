import http from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { startRedis } from '../../helpers/redis';
import { messageId } from '../../../plugins/webhook-ingest/ingest';
import { startGatehouse, tempDir, until } from '../../helpers/gatehouse-process';
import { moPost, recordingBackend } from './harness';

t.setTimeout(300000); // 21 child starts under load: about a minute on 2 cores
const KILLS = Number(process.env.WEBHOOK_CRASH_KILLS ?? 20);
const SENDERS = 16;
const TIME = '26-12-02 01:00:00'; // moPost's transmit_time

/** One POST on a fresh connection; resolves with the status, or 0 when the connection died. */
function send(port: number, body: string): Promise<number> {
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path: '/hook',
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', () => resolve(0));
      },
    );
    req.on('error', () => resolve(0));
    req.end(body);
  });
}

/** The stores it runs on; Redis with a redis-server of the test's own (skipped loudly where none is installed). */
const backends: { name: string; url(t: Test, dir: string): Promise<string | undefined> }[] = [
  { name: 'sqlite', url: async (_t, dir) => `sqlite:${join(dir, 'gatehouse.db')}` },
  { name: 'redis', url: async (t) => (await startRedis(t))?.url },
];

for (const backend of backends)
  t.test(`${backend.name}: SIGKILL under load ${KILLS} times: every 2xx is delivered, each delivery id processed once`, async (t) => {
    const be = await recordingBackend(t);
    const processed = new Map<string, number>(); // id → times the idempotent backend saw it
    be.answer((r) => {
      const id = r.headers['gatehouse-delivery-id'] as string;
      processed.set(id, (processed.get(id) ?? 0) + 1);
      return { status: 200 };
    });
    const dir = tempDir(t, 'webhook-crash-');
    const store = await backend.url(t, dir);
    if (!store) return;
    const file = join(dir, 'gatehouse.yaml');
    writeFileSync(
      file,
      [
        'server: { http: { port: 0, host: 127.0.0.1 } }',
        'log: { level: info, accessLog: false }',
        `store: ${store}`,
        `upstreams: { be: { targets: ["${be.url}"] } }`,
        'routes:',
        '  - match: { pathExact: /hook }',
        '    plugins:',
        '      - webhook-ingest:',
        '          preset: rockblock',
        '          verify: { required: false }',
        '          deliver: { upstream: be, concurrency: 8, pollMs: 20, leaseMs: 15000, timeoutMs: 5000 }',
        '          retry: { schedule: [50ms, 100ms, 200ms, 400ms, 1s], jitter: 0.2 }',
        '        id: hook',
        '',
      ].join('\n'),
    );
    const acked = new Set<string>();
    const attempted = new Set<string>();
    let next = 0;
    for (let round = 0; round <= KILLS; round++) {
      const gh = await startGatehouse(t, file, { env: { GATEHOUSE_ADMIN_TOKEN: '' } });
      let stop = false;
      const senders = Array.from({ length: SENDERS }, async () => {
        while (!stop) {
          const n = next++;
          const imei = `3000000000${String(10000 + (n % 50)).padStart(5, '0')}`;
          const momsn = Math.floor(n / 50);
          const id = messageId(`rockblock\u0000${imei}\u0000${momsn}\u0000${TIME}`);
          attempted.add(id);
          const status = await send(gh.port, moPost(imei, momsn));
          if (status >= 200 && status < 300) acked.add(id);
          else if (status === 0) break; // killed
        }
      });
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 400));
      if (round < KILLS) {
        gh.child.kill('SIGKILL');
        await gh.exited;
      }
      stop = true;
      await Promise.all(senders);
      if (round === KILLS) {
        await until(async () => [...acked].every((id) => processed.has(id)), 60000, 100);
        gh.child.kill('SIGTERM');
        await gh.exited;
      }
    }
    t.ok(acked.size > KILLS * 20, `load was real: ${acked.size} answered 2xx over ${KILLS + 1} runs`);
    const missing = [...acked].filter((id) => !processed.has(id));
    t.same(missing, [], 'nothing answered 2xx is missing at the backend');
    const phantom = [...processed.keys()].filter((id) => !attempted.has(id));
    t.same(phantom, [], 'nothing delivered that was not sent');
    const redelivered = [...processed.values()].filter((n) => n > 1).length;
    t.comment(
      `${processed.size} distinct deliveries, ${redelivered} redelivered after a kill (the idempotent backend processed each id once)`,
    );
  });
