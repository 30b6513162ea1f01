import cluster from 'node:cluster';
import { upstreamsState } from './admin';
import { isClusterMessage, type ClusterMessage, type WorkerQuestion } from './cluster-ipc';
import { createGateway, type Gateway, type GatewayOptions } from './gateway';

/** Send to the primary and resolve once the message is out (before an exit that would drop it). */
function tell(m: ClusterMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.connected || !process.send) return resolve();
    process.send(m, undefined, {}, () => resolve());
  });
}

/** Seconds of per-second histograms a worker keeps for the primary's dashboard (it asks once a second). */
const KEEP_HISTOGRAM_SECONDS = 30;

/** A worker's answer to each of the primary's questions. */
async function answer(gw: Gateway, what: WorkerQuestion, arg: unknown): Promise<unknown> {
  switch (what) {
    case 'samples': {
      const { since, upTo } = arg as { since: number; upTo: number };
      return gw.metrics.samples.finishedSince(since, upTo);
    }
    case 'metrics':
      return gw.metrics.registry.getMetricsAsJSON();
    case 'ready':
      return gw.ready
        ? { ready: gw.runtime.notReady().length === 0, reasons: gw.runtime.notReady() }
        : { ready: false, reasons: [{ plugin: null, reason: 'not listening' }] };
    case 'upstreams':
      return upstreamsState(gw);
    case 'reload':
      await gw.reload();
      return { file: gw.runtime.loaded.file };
    case 'reopen':
      gw.reopenLogs();
      return true;
  }
}

/**
 * Run one cluster worker (`server.workers` above 1): a Gateway on the proxy listeners the
 * primary shares, without the admin listener. It tells the primary when it listens (or why it
 * could not: the primary reports that once, rather than each worker), answers its questions
 * (metrics, readiness, upstreams, reload, log reopen, the dashboard's samples), drains and exits 0 on SIGTERM/SIGINT or
 * when the primary is gone. SIGHUP is the primary's to handle (it validates once, then asks
 * each worker), so a worker ignores one sent to the whole process group.
 *
 * @param describe the one-line message of a start failure (the CLI's).
 * @returns the exit code.
 */
export async function runWorker(options: GatewayOptions, describe: (err: unknown) => string): Promise<number> {
  const id = cluster.worker!.id;
  let gw: Gateway;
  try {
    gw = await createGateway({ ...options, cluster: { worker: id } });
    await gw.listen();
  } catch (err) {
    await tell({ gh: 'failed', message: describe(err) });
    return 1;
  }
  // The dashboard is the primary's, fed by every worker's ring (core/server/cluster-dashboard.ts).
  if (gw.runtime.loaded.config.admin) {
    gw.metrics.samples.keepHistograms(KEEP_HISTOGRAM_SECONDS);
    gw.metrics.samples.start();
  }
  await tell({ gh: 'listening', addresses: { http: gw.addresses.http, https: gw.addresses.https } });
  process.on('message', (m: unknown) => {
    if (!isClusterMessage(m) || m.gh !== 'ask') return;
    answer(gw, m.what, m.arg).then(
      (value) => void tell({ gh: 'reply', id: m.id, ok: true, value }),
      (err: unknown) => void tell({ gh: 'reply', id: m.id, ok: false, error: describe(err) }),
    );
  });
  process.on('SIGHUP', () => gw.logger.debug('SIGHUP ignored by a worker: the primary reloads every worker'));
  process.on('SIGUSR1', () => gw.reopenLogs());
  return new Promise((resolveExit) => {
    const stop = (why: string) => {
      gw.logger.info({ reason: why }, 'worker shutting down');
      void gw.close().then(
        () => resolveExit(0),
        () => resolveExit(1),
      );
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('disconnect', () => stop('the primary is gone'));
  });
}
