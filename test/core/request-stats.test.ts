import { Counter, Histogram, Registry } from 'prom-client';
import t from 'tap';
import { GatewayMetrics } from '../../core/observe/metrics';
import { DURATION_BUCKETS } from '../../core/observe/request-stats';

// Core counts requests in plain numbers and hands them to prom-client when scraped. The text a
// scrape returns must be exactly what prom-client's own Counter and Histogram would have written.
type Obs = [route: string, method: string, status: number, upstream: string, seconds: number];

const cases: { desc: string; observations: Obs[] }[] = [
  { desc: 'no requests yet', observations: [] },
  { desc: 'one request', observations: [['api', 'GET', 200, 'app', 0.003]] },
  {
    desc: 'values exactly on bucket bounds fall in that bucket',
    observations: DURATION_BUCKETS.map((b) => ['api', 'GET', 200, 'app', b] as Obs),
  },
  {
    desc: 'zero and values beyond the last bound (+Inf only)',
    observations: [
      ['api', 'GET', 200, 'app', 0],
      ['api', 'GET', 200, 'app', 31],
      ['api', 'GET', 200, 'app', 1e6],
    ],
  },
  {
    desc: 'several routes, methods, statuses and upstreams',
    observations: [
      ['api', 'GET', 200, 'app', 0.0004],
      ['api', 'POST', 201, 'app', 0.02],
      ['api', 'GET', 502, 'none', 0.7],
      ['static', 'HEAD', 304, 'files', 0.0011],
      ['none', 'OTHER', 404, 'none', 0.00001],
      ['api', 'GET', 200, 'app', 2],
    ],
  },
];

async function reference(observations: Obs[]): Promise<string> {
  const registry = new Registry();
  const requests = new Counter({
    name: 'gatehouse_requests_total',
    help: 'Requests by route, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'gatehouse_request_duration_seconds',
    help: 'Time from request to the end of the response',
    labelNames: ['route', 'upstream'],
    buckets: [...DURATION_BUCKETS],
    registers: [registry],
  });
  for (const [route, method, status, upstream, s] of observations) {
    requests.inc({ route, method, status: String(status) });
    duration.observe({ route, upstream }, s);
  }
  return (
    (await registry.getSingleMetricAsString('gatehouse_requests_total')) +
    (await registry.getSingleMetricAsString('gatehouse_request_duration_seconds'))
  );
}

for (const c of cases) {
  t.test(c.desc, async (t) => {
    const m = new GatewayMetrics({ defaultMetrics: false });
    for (const o of c.observations) m.countRequest(...o);
    const ours =
      (await m.registry.getSingleMetricAsString('gatehouse_requests_total')) +
      (await m.registry.getSingleMetricAsString('gatehouse_request_duration_seconds'));
    // Series order may differ (both are unordered in Prometheus' text format); compare sorted lines.
    const lines = (s: string) => s.split('\n').filter(Boolean).sort();
    t.same(lines(ours), lines(await reference(c.observations)));
    const json = await m.registry.getMetricsAsJSON();
    t.ok(
      json.find((x) => x.name === 'gatehouse_request_duration_seconds'),
      'listed by getMetricsAsJSON too',
    );
  });
}

t.test('methods outside the common ones count as OTHER; in-flight gauge reads the live count', async (t) => {
  const m = new GatewayMetrics({ defaultMetrics: false });
  m.countRequest('r', 'PROPFIND', 207, 'u', 0.01);
  m.inflightNow = 3;
  const text = await m.registry.metrics();
  t.match(text, /gatehouse_requests_total\{route="r",method="OTHER",status="207"\} 1/);
  t.match(text, /gatehouse_inflight_requests 3/);
});
