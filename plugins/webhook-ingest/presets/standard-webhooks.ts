import { anyEqual, hmac } from '../compare';
import { checkTimestamp, header, mismatch, unsigned, type Inbound, type PresetSettings, type Verdict, type Verifier } from './types';

/** A `whsec_<base64>` secret's key bytes (a secret without the prefix is taken as base64 too). */
export function standardKey(secret: string): Buffer {
  return Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64');
}

/**
 * Standard Webhooks (Svix): `webhook-signature: v1,<base64>` (several, space-separated) is
 * HMAC-SHA256 of `<webhook-id>.<webhook-timestamp>.<body>`; dedupe on webhook-id.
 */
export function standardWebhooks(settings: PresetSettings): Verifier {
  const keys = settings.secrets.map(standardKey);
  return {
    verify(inbound: Inbound): Verdict {
      const id = header(inbound.headers, 'webhook-id');
      const ts = header(inbound.headers, 'webhook-timestamp');
      const sig = header(inbound.headers, 'webhook-signature');
      if (!id && !ts && !sig) return unsigned(settings, 'webhook-signature');
      if (!id || !ts || !sig) mismatch('webhook-signature (or its webhook-id or webhook-timestamp is missing)');
      checkTimestamp(ts, inbound.now, settings.toleranceSec);
      const presented = sig
        .split(' ')
        .filter((s) => s.startsWith('v1,'))
        .map((s) => Buffer.from(s.slice(3), 'base64'));
      const expected = keys.map((k) => hmac('sha256', k, `${id}.${ts}.`, inbound.raw));
      if (!anyEqual(presented, expected)) mismatch('webhook-signature');
      return { signed: true, dedupe: `standard-webhooks\u0000${id}` };
    },
  };
}
