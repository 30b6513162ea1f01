import { anyEqual, decodeSignature, hmac } from '../compare';
import { jsonField, mediaType, parseBody } from '../fields';
import { checkTimestamp, header, mismatch, unsigned, type Inbound, type PresetSettings, type Verdict, type Verifier } from './types';

/**
 * Slack: `X-Slack-Signature: v0=<hex>` is HMAC-SHA256 of `v0:<X-Slack-Request-Timestamp>:<body>`
 * with the signing secret; dedupe on the Events API's `event_id` when the body has one.
 */
export function slack(settings: PresetSettings): Verifier {
  return {
    verify(inbound: Inbound): Verdict {
      const sig = header(inbound.headers, 'x-slack-signature');
      const ts = header(inbound.headers, 'x-slack-request-timestamp');
      if (!sig && !ts) return unsigned(settings, 'X-Slack-Signature');
      if (!sig || !ts) mismatch('X-Slack-Signature (or its X-Slack-Request-Timestamp is missing)');
      checkTimestamp(ts, inbound.now, settings.toleranceSec);
      const presented = sig.startsWith('v0=') ? decodeSignature(sig.slice(3), 'hex') : undefined;
      const expected = settings.secrets.map((s) => hmac('sha256', s, `v0:${ts}:`, inbound.raw));
      if (!presented || !anyEqual([presented], expected)) mismatch('X-Slack-Signature');
      const type = mediaType(inbound.headers['content-type']);
      const body = type === 'application/json' ? parseBody(inbound.raw, type) : undefined;
      const eventId = body?.kind === 'json' ? jsonField(body.json, 'event_id') : undefined;
      return { signed: true, ...(eventId ? { dedupe: `slack\u0000${eventId}` } : {}) };
    },
  };
}
