import http from 'node:http';
import https from 'node:https';
import type { Logger } from 'pino';
import type { UpstreamConfig } from '../config/types';
import type { Target } from './target';

/** What health needs of its pool: the config, a log, and a say when a verdict changed. */
export interface HealthOwner {
  readonly name: string;
  readonly config: Readonly<UpstreamConfig>;
  readonly logger: Logger;
  /** A target's health or ejection changed: recompute panic mode, serve the queue. */
  healthChanged(): void;
  /** Targets ejected now. */
  ejectedCount(): number;
  readonly targets: readonly Target[];
}

/** The longest an ejection grows to, in multiples of ejectMs. */
const MAX_EJECT_FACTOR = 10;

/** The next check of `t` after about `every` ms (±10%, so that targets are not checked in step). */
function schedule(owner: HealthOwner, t: Target, every: number): void {
  const ms = Math.max(1, Math.round(every * (0.9 + Math.random() * 0.2)));
  t.checkTimer = setTimeout(() => check(owner, t), ms);
  t.checkTimer.unref();
}

/** Start active checks of a target (the first within one interval, at a random point of it). */
export function startChecks(owner: HealthOwner, t: Target): void {
  const hc = owner.config.healthCheck;
  if (!hc || t.checkTimer !== undefined || t.removed) return;
  t.checkTimer = setTimeout(() => check(owner, t), Math.max(1, Math.round(Math.random() * hc.intervalMs)));
  t.checkTimer.unref();
}

export function stopChecks(t: Target): void {
  clearTimeout(t.checkTimer);
  t.checkTimer = undefined;
}

function check(owner: HealthOwner, t: Target): void {
  const hc = owner.config.healthCheck;
  if (!hc || t.removed) return;
  const secure = t.url.protocol === 'https:' || t.url.protocol === 'wss:';
  const base = t.url.pathname === '/' ? '' : t.url.pathname.replace(/\/$/, '');
  let done = false;
  const verdict = (ok: boolean) => {
    if (done) return;
    done = true;
    record(owner, t, ok);
    if (!t.removed && owner.config.healthCheck) schedule(owner, t, owner.config.healthCheck.intervalMs);
  };
  // A connection of its own (agent: false): a check must not queue behind, or reuse, a request's socket.
  const req = (secure ? https : http).request(
    {
      protocol: secure ? 'https:' : 'http:',
      hostname: t.url.hostname,
      port: t.url.port || (secure ? 443 : 80),
      path: base + hc.path,
      method: 'GET',
      agent: false,
      timeout: hc.timeoutMs,
      rejectUnauthorized: !owner.config.insecure,
      headers: { 'user-agent': 'gatehouse-health-check' },
    },
    (res) => {
      res.resume();
      const ok = (res.statusCode ?? 0) >= 200 && (res.statusCode ?? 0) < 400;
      res.on('end', () => verdict(ok));
      res.on('error', () => verdict(false));
    },
  );
  req.on('timeout', () => req.destroy(new Error('health check timed out')));
  req.on('error', () => verdict(false));
  req.end();
}

/** One check's result, against the thresholds. */
function record(owner: HealthOwner, t: Target, ok: boolean): void {
  const hc = owner.config.healthCheck!;
  if (ok) {
    t.checkFailures = 0;
    t.checkPasses++;
    if (!t.healthy && t.checkPasses >= hc.healthy) {
      t.healthy = true;
      owner.logger.info({ upstream: owner.name, target: t.key, passes: t.checkPasses }, 'upstream target healthy again');
      owner.healthChanged();
    }
  } else {
    t.checkPasses = 0;
    t.checkFailures++;
    if (t.healthy && t.checkFailures >= hc.unhealthy) {
      t.healthy = false;
      owner.logger.warn({ upstream: owner.name, target: t.key, failures: t.checkFailures }, 'upstream target unhealthy');
      owner.healthChanged();
    }
  }
}

/**
 * A request's outcome for passive outlier detection: `failed` (connect failure, reset,
 * timeout or a 5xx) in a row up to consecutiveFailures ejects the target, unless as many as
 * maxEjectedPercent allows are out already (one always may be).
 */
export function reportOutcome(owner: HealthOwner, t: Target, failed: boolean): void {
  const o = owner.config.outlier;
  if (!o) return;
  if (!failed) {
    t.failures = 0;
    return;
  }
  t.failures++;
  if (t.failures < o.consecutiveFailures || t.removed) return;
  const now = Date.now();
  if (t.ejected(now)) return;
  const limit = Math.max(1, Math.floor((owner.targets.length * o.maxEjectedPercent) / 100));
  if (owner.ejectedCount() >= limit) return;
  // Back for long since its last ejection: it starts over at one ejectMs.
  if (t.ejections > 0 && now - t.ejectedUntil > o.ejectMs * MAX_EJECT_FACTOR) t.ejections = 0;
  t.ejections++;
  t.ejectedTotal++;
  const ms = o.ejectMs * Math.min(t.ejections, MAX_EJECT_FACTOR);
  t.ejectedUntil = now + ms;
  t.failures = 0;
  owner.logger.warn({ upstream: owner.name, target: t.key, ejections: t.ejections, ejectMs: ms }, 'upstream target ejected');
  owner.healthChanged();
  const back = setTimeout(() => {
    if (t.removed) return;
    owner.logger.info({ upstream: owner.name, target: t.key }, 'upstream target back from ejection');
    owner.healthChanged();
  }, ms + 1);
  back.unref();
}
