import type { PluginMetrics } from '../../core/plugin-api';
import type { Outcome } from './verify';

/** The plugin's own series. */
export function jwtMetrics(metrics: PluginMetrics) {
  const verifications = metrics.counter({
    name: 'verifications_total',
    help: 'Requests by outcome (valid, exempt, missing, ambiguous, invalid, expired, jwks_unavailable)',
    labelNames: ['outcome'],
  });
  const fetches = metrics.counter({
    name: 'jwks_fetches_total',
    help: 'Fetches of the JWKS URL by outcome (ok, error)',
    labelNames: ['outcome'],
  });
  return {
    outcome: (o: Outcome) => verifications.inc({ outcome: o }),
    fetched: (ok: boolean) => fetches.inc({ outcome: ok ? 'ok' : 'error' }),
  };
}

export type JwtMetrics = ReturnType<typeof jwtMetrics>;
