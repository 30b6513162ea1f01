import { anyEqual, decodeSignature, hmac } from '../compare';
import { header, mismatch, unsigned, type Inbound, type PresetSettings, type Verdict, type Verifier } from './types';

/** GitHub: `X-Hub-Signature-256: sha256=<hex>` over the body; dedupe on X-GitHub-Delivery (kept by redeliveries). */
export function github(settings: PresetSettings): Verifier {
  return {
    verify(inbound: Inbound): Verdict {
      const sig = header(inbound.headers, 'x-hub-signature-256');
      if (!sig) return unsigned(settings, 'X-Hub-Signature-256');
      const presented = sig.startsWith('sha256=') ? decodeSignature(sig.slice(7), 'hex') : undefined;
      const expected = settings.secrets.map((s) => hmac('sha256', s, inbound.raw));
      if (!presented || !anyEqual([presented], expected)) mismatch('X-Hub-Signature-256');
      const delivery = header(inbound.headers, 'x-github-delivery');
      return { signed: true, ...(delivery ? { dedupe: `github\u0000${delivery}` } : {}) };
    },
  };
}
