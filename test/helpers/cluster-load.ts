import http from 'node:http';
import { until } from './gatehouse-process';

/** GET with a bound (a lost connection must fail the test, not hang it): status, worker, body, or the error's code. */
export function get(
  url: string,
  agent: http.Agent | false = false,
): Promise<{ status: number; worker: string; body: string } | { error: string }> {
  return new Promise((resolve) => {
    const req = http.get(url, { agent }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, worker: String(res.headers['gatehouse-worker']), body }));
      res.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    });
    req.setTimeout(15000, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
  });
}

/** `width` loops of requests until stopped: what they got. */
export function load(url: string, width: number, agent: http.Agent | false = false) {
  let stop = false;
  const ok: { worker: string; body: string }[] = [];
  const failures: string[] = [];
  const loops = Array.from({ length: width }, async () => {
    while (!stop) {
      const r = await get(url, agent);
      if ('error' in r) failures.push(r.error);
      else if (r.status !== 200) failures.push(`${r.status} ${r.body}`);
      else ok.push(r);
    }
  });
  return {
    ok,
    failures,
    /** Wait for `n` more answers than now. */
    more: (n: number) => {
      const target = ok.length + n;
      return until(async () => ok.length >= target, 60000);
    },
    end: async () => {
      stop = true;
      await Promise.all(loops);
    },
  };
}
