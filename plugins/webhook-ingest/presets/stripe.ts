import { errors } from '../errors';
import { anyEqual, decodeSignature, hmac } from '../compare';
import { parseBody } from '../fields';
import { checkTimestamp, header, mismatch, unsigned, type Inbound, type PresetSettings, type Verdict, type Verifier } from './types';

/**
 * Stripe: `Stripe-Signature: t=<ts>,v1=<hex>[,v1=…]` is HMAC-SHA256 of `<t>.<body>` with the
 * whole `whsec_…` secret; dedupe on the event's `id` (a retried event keeps it).
 */
export function stripe(settings: PresetSettings): Verifier {
  return {
    verify(inbound: Inbound): Verdict {
      const sig = header(inbound.headers, 'stripe-signature');
      if (!sig) return unsigned(settings, 'Stripe-Signature');
      let t = '';
      const presented: Buffer[] = [];
      for (const part of sig.split(',')) {
        const eq = part.indexOf('=');
        const k = part.slice(0, eq).trim();
        const v = part.slice(eq + 1).trim();
        if (k === 't') t = v;
        else if (k === 'v1') {
          const b = decodeSignature(v, 'hex');
          if (b) presented.push(b);
        }
      }
      if (!t || presented.length === 0) mismatch('Stripe-Signature (no t= or v1=)');
      checkTimestamp(t, inbound.now, settings.toleranceSec);
      const expected = settings.secrets.map((s) => hmac('sha256', s, `${t}.`, inbound.raw));
      if (!anyEqual(presented, expected)) mismatch('Stripe-Signature');
      const body = parseBody(inbound.raw, 'application/json');
      const id = body.kind === 'json' ? body.json.id : undefined;
      if (typeof id !== 'string' || id === '') throw errors.create('INVALID', 'The Stripe event has no id');
      return { signed: true, dedupe: `stripe\u0000${id}` };
    },
  };
}
