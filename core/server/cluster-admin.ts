import { GatehouseError } from '../errors';
import type { AdminRoute } from './admin-router';
import type { ClusterPrimary } from './cluster-primary';
import { clusterMetrics } from './cluster-metrics';

/** How long an admin request waits for a worker's answer. */
const ASK_MS = 5000;

type Reason = { worker: number | null; plugin?: string | null; reason: string };

/**
 * The cluster primary's answers for the admin endpoints that speak for the workers: `/metrics`
 * (every worker's and the primary's own, aggregated by prom-client's AggregatorRegistry: counters
 * summed, gauges by each metric's `aggregator`), `/readyz` (ready when every running worker is;
 * slots left stopped after a crash loop are listed), `/upstreams` (per worker id: each has its own
 * pools, in-flight counts and health) and `POST /reload` (validated once, then each worker's
 * outcome). The other endpoints are the primary's own generation's (core/server/admin.ts).
 */
export function clusterAdminRoutes(p: ClusterPrimary): AdminRoute[] {
  return [
    {
      method: 'GET',
      path: '/readyz',
      open: true,
      handle: async function readyz(a) {
        const stopped = p.slots.filter((s) => s.state === 'stopped').map((s) => ({ slot: s.index, reason: s.stoppedWhy ?? 'stopped' }));
        if (!p.gw.ready || p.stopping) {
          a.json(503, { status: 'not ready', reasons: [{ worker: null, reason: p.stopping ? 'shutting down' : 'not listening' }] });
          return;
        }
        const answers = await p.askAll('ready', ASK_MS);
        const reasons: Reason[] = [];
        for (const [worker, r] of answers) {
          if (!r.ok) reasons.push({ worker, reason: r.error });
          else
            for (const x of (r.value as { reasons: { plugin: string | null; reason: string }[] }).reasons) reasons.push({ worker, ...x });
        }
        if (answers.length === 0) reasons.push({ worker: null, reason: 'no worker is running' });
        const body = { workers: answers.map(([id]) => id), ...(stopped.length > 0 ? { stopped } : {}) };
        if (reasons.length === 0) a.json(200, { status: 'ready', ...body });
        else a.json(503, { status: 'not ready', reasons, ...body });
      },
    },
    {
      method: 'GET',
      path: '/metrics',
      handle: async function metrics(a) {
        const merged = await clusterMetrics(p, ASK_MS);
        a.send(200, await merged.metrics(), { 'content-type': merged.contentType });
      },
    },
    {
      method: 'GET',
      path: '/upstreams',
      handle: async function upstreams(a) {
        const answers = await p.askAll('upstreams', ASK_MS);
        a.json(200, Object.fromEntries(answers.map(([id, r]) => [id, r.ok ? r.value : { error: r.error }])));
      },
    },
    {
      method: 'POST',
      path: '/reload',
      handle: async function reload(a) {
        let workers;
        try {
          workers = await p.reload();
        } catch (err) {
          // Refused by the primary: nothing changed anywhere.
          throw new GatehouseError('GH_ERR_RELOAD_FAILED', (err as Error).message, { status: 422, cause: err });
        }
        const file = p.gw.runtime.loaded.file;
        const failed = Object.entries(workers).filter(([, r]) => r.status === 'failed');
        if (failed.length === 0) {
          a.json(200, { status: 'reloaded', file, workers });
          return;
        }
        const message = `Reloaded in the primary, failed in worker(s) ${failed.map(([id]) => id).join(', ')}`;
        a.json(500, { error: { code: 'GH_ERR_RELOAD_FAILED', status: 500, message }, status: 'partially reloaded', file, workers });
      },
    },
  ];
}
