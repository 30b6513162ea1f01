import type { Json } from '../../core/plugin-api';

/** The queue item of one received webhook: everything delivery needs, stored in the one durable write. */
export interface StoredMessage {
  /** The body as received, base64. */
  readonly body: string;
  readonly contentType?: string;
  /** The configured pass headers as received. */
  readonly headers: Record<string, string>;
  /** Path and query to post to. */
  readonly path: string;
  /** Epoch ms of the durable write. */
  readonly receivedAt: number;
  /** Whether a signature was checked (false: let in unsigned by policy). */
  readonly signed: boolean;
}

/** A stored message as the JSON the store keeps. */
export function toJson(m: StoredMessage): Json {
  return m as unknown as Json;
}

/** Header names that delivery sets itself and a pass list may not override. */
export const OWN_HEADERS = new Set([
  'content-type',
  'content-length',
  'transfer-encoding',
  'host',
  'connection',
  'gatehouse-delivery-id',
  'gatehouse-attempt',
  'gatehouse-received-at',
]);
