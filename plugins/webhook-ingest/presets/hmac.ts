import { anyEqual, decodeSignature, hmac as digest } from '../compare';
import { header, mismatch, unsigned, type Inbound, type PresetSettings, type Verdict, type Verifier } from './types';

/** Generic HMAC: `<header>: <prefix><signature>` is the HMAC (algorithm, hex or base64) of the body. */
export function hmac(settings: PresetSettings): Verifier {
  const name = (settings.header ?? '').toLowerCase();
  const { prefix, algorithm, encoding } = settings;
  return {
    verify(inbound: Inbound): Verdict {
      const sig = header(inbound.headers, name);
      if (!sig) return unsigned(settings, name);
      const presented = sig.startsWith(prefix) ? decodeSignature(sig.slice(prefix.length), encoding) : undefined;
      const expected = settings.secrets.map((s) => digest(algorithm, s, inbound.raw));
      if (!presented || !anyEqual([presented], expected)) mismatch(name);
      return { signed: true };
    },
  };
}
