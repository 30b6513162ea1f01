import { createHash, randomUUID } from 'node:crypto';
import { GatehouseError, type Context, type QueueStore } from '../../core/plugin-api';
import { errors } from './errors';
import { FieldSource, parseFieldRef, type FieldRef } from './fields';
import { toJson, type StoredMessage } from './message';
import type { WebhookMetrics } from './metrics';
import type { Verifier } from './presets/types';
import type { WebhookIngestOptions } from './schema';

/** Seconds a sender is told to wait when the store failed. */
const RETRY_AFTER_S = '5';

/** The queue id of a dedupe key: fixed length, header-safe, the same for every resend. */
export function messageId(dedupe: string): string {
  return createHash('sha256').update(dedupe).digest('hex');
}

/**
 * The request path of the plugin: read the raw body (with its limit), verify it, write it and its
 * delivery job in one durable enqueue (the dedupe key as the item id), and only then answer.
 */
export class Ingest {
  private readonly dedupeRefs?: FieldRef[];
  private readonly orderRef?: FieldRef;
  private readonly pass: string[];
  private readonly answerHeaders: Record<string, string>;

  constructor(
    private readonly options: Readonly<WebhookIngestOptions>,
    private readonly queue: () => QueueStore,
    private readonly queueName: string,
    private readonly verifier: () => Verifier,
    private readonly metrics: WebhookMetrics,
  ) {
    if (options.dedupe.key !== undefined) this.dedupeRefs = options.dedupe.key.split(',').map(parseFieldRef);
    if (options.deliver.orderBy !== undefined) this.orderRef = parseFieldRef(options.deliver.orderBy);
    this.pass = options.deliver.passHeaders.map((h) => h.toLowerCase());
    this.answerHeaders = { 'content-type': options.answer.contentType };
  }

  /** The middleware: answers every request itself. */
  async handle(ctx: Context): Promise<void> {
    if (ctx.method !== 'POST') {
      ctx.fail(new GatehouseError('GH_ERR_METHOD_NOT_ALLOWED', `${ctx.method} is not allowed; webhooks are POSTed`), { allow: 'POST' });
      return;
    }
    let message: StoredMessage;
    let id: string;
    let group: string | undefined;
    try {
      const raw = await ctx.readBody({ limit: this.options.limit });
      if (raw.length === 0) throw errors.create('INVALID', 'The webhook body is empty');
      const { headers } = ctx.req;
      const verdict = await this.verifier().verify({ raw, headers, clientIp: ctx.clientIp, now: Date.now() });
      const fields = new FieldSource(raw, headers, verdict.fields);
      const dedupe = this.dedupeRefs ? fields.key(this.dedupeRefs, 'dedupe.key') : verdict.dedupe;
      id = dedupe !== undefined ? messageId(dedupe) : randomUUID();
      if (this.orderRef) group = fields.key([this.orderRef], 'deliver.orderBy');
      message = {
        body: raw.toString('base64'),
        ...(headers['content-type'] !== undefined ? { contentType: headers['content-type'] } : {}),
        headers: this.passed(headers),
        path: this.options.deliver.path ?? ctx.upstreamPath,
        receivedAt: Date.now(),
        signed: verdict.signed,
      };
    } catch (err) {
      this.metrics.received(outcomeOf(err));
      ctx.fail(err);
      return;
    }
    let duplicate: boolean;
    try {
      ({ duplicate } = await this.queue().enqueue(this.queueName, toJson(message), {
        id,
        ...(group !== undefined ? { group } : {}),
        retainMs: this.options.dedupe.windowMs,
      }));
    } catch (err) {
      this.metrics.received('store_failed');
      ctx.log.error({ plugin: 'webhook-ingest', err: (err as Error).message }, 'webhook not stored');
      const answer =
        err instanceof GatehouseError && err.status === 503
          ? err
          : new GatehouseError('GH_ERR_STORE_UNAVAILABLE', `The webhook could not be stored: ${(err as Error).message}`, { cause: err });
      ctx.fail(answer, { 'retry-after': RETRY_AFTER_S });
      return;
    }
    this.metrics.received(duplicate ? 'duplicate' : 'accepted');
    ctx.send(this.options.answer.status, this.options.answer.body, { ...this.answerHeaders, 'gatehouse-delivery-id': id });
  }

  private passed(headers: Context['req']['headers']): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of this.pass) {
      const v = headers[name];
      if (v !== undefined) out[name] = Array.isArray(v) ? v.join(', ') : v;
    }
    return out;
  }
}

function outcomeOf(err: unknown): 'unverified' | 'invalid' | 'too_large' {
  if (err instanceof GatehouseError && err.status === 401) return 'unverified';
  if (err instanceof GatehouseError && err.status === 413) return 'too_large';
  return 'invalid';
}
