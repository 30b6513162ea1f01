import Ajv, { type ErrorObject } from 'ajv';
import addFormats from 'ajv-formats';
import { GatehouseError } from '../errors';
import type { Json } from '../store/types';

/** A target where a service answers: a URL, or one with a weight. */
export type ServiceTarget = string | { url: string; weight?: number };

/**
 * A service entry as PhysarumSM's registry kept it (`ServiceInfo`), plus gatehouse's targets,
 * tags, meta and lease. RTTs are milliseconds (the original's were Go durations, nanoseconds in
 * JSON); CpuReq and MemoryReq are the original's plain numbers, unit-less as there.
 */
export interface ServiceInfo {
  ContentHash?: string;
  DockerHash?: string;
  NetworkSoftReq?: { RTT: number };
  NetworkHardReq?: { RTT: number };
  CpuReq?: number;
  MemoryReq?: number;
  targets?: ServiceTarget[];
  tags?: string[];
  meta?: Record<string, string>;
  /** Renew with a heartbeat within this many ms, or the entry turns critical (then is removed). */
  ttlMs?: number;
}

/** The body of `PUT /registry/services/<name>`: a strict schema, so a typo is a 400, not a silent drop. */
export const SERVICE_INFO_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  properties: {
    ContentHash: { type: 'string', maxLength: 256 },
    DockerHash: { type: 'string', maxLength: 256 },
    NetworkSoftReq: { $ref: '#/$defs/rtt' },
    NetworkHardReq: { $ref: '#/$defs/rtt' },
    CpuReq: { type: 'number', minimum: 0 },
    MemoryReq: { type: 'number', minimum: 0 },
    targets: {
      type: 'array',
      maxItems: 1000,
      items: {
        anyOf: [
          { type: 'string', format: 'uri', pattern: '^https?://' },
          {
            type: 'object',
            additionalProperties: false,
            required: ['url'],
            properties: {
              url: { type: 'string', format: 'uri', pattern: '^https?://' },
              weight: { type: 'integer', minimum: 1, maximum: 1000 },
            },
          },
        ],
      },
    },
    tags: { type: 'array', maxItems: 64, items: { type: 'string', minLength: 1, maxLength: 128 } },
    meta: { type: 'object', maxProperties: 64, additionalProperties: { type: 'string', maxLength: 1024 } },
    ttlMs: { type: 'integer', minimum: 1000, maximum: 2147483647 },
  },
  $defs: {
    rtt: {
      type: 'object',
      additionalProperties: false,
      required: ['RTT'],
      properties: { RTT: { type: 'number', minimum: 0, description: 'Round-trip time in milliseconds.' } },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: false });
addFormats(ajv);
const validate = ajv.compile(SERVICE_INFO_SCHEMA);

function describe(e: ErrorObject): string {
  const at = e.instancePath || '/';
  if (e.keyword === 'additionalProperties') return `${at}: unknown field "${String(e.params.additionalProperty)}"`;
  return `${at}: ${e.message ?? 'is invalid'}`;
}

/** `value` as a ServiceInfo. @throws GatehouseError GH_ERR_REGISTRY_INVALID (400) naming each bad field. */
export function checkServiceInfo(value: unknown): ServiceInfo {
  if (!validate(value)) {
    // anyOf reports each branch; the first few distinct messages say enough.
    const messages = [...new Set((validate.errors ?? []).map(describe))].slice(0, 5);
    throw new GatehouseError('GH_ERR_REGISTRY_INVALID', `Invalid service entry: ${messages.join('; ')}`);
  }
  return value as ServiceInfo;
}

/** A service name as the original took it: surrounding whitespace trimmed. @throws GatehouseError GH_ERR_REGISTRY_INVALID */
export function serviceName(raw: string): string {
  const name = raw.trim();
  // eslint-disable-next-line no-control-regex -- control characters are what is refused
  if (name === '' || name.length > 256 || /[\0-\x1f]/.test(name))
    throw new GatehouseError('GH_ERR_REGISTRY_INVALID', 'Invalid service name: 1 to 256 characters, no control characters');
  return name;
}

/** What the store keeps per service. */
export interface StoredService {
  readonly name: string;
  readonly info: ServiceInfo;
  readonly registeredAt: number;
  readonly renewedAt: number;
}

/** A stored service as the API shows it: with its health and lease left. */
export interface ServiceView extends StoredService {
  /** passing, or critical once its lease lapsed (until it is removed). */
  readonly status: 'passing' | 'critical';
  /** ms until the lease lapses (0 once critical); absent without a ttl. */
  readonly leaseLeftMs?: number;
  /** The store revision of its last change. */
  readonly index: number;
}

/** How a stored entry looks now. */
export function view(stored: StoredService, index: number, now = Date.now()): ServiceView {
  const ttl = stored.info.ttlMs;
  if (ttl === undefined) return { ...stored, status: 'passing', index };
  const left = stored.renewedAt + ttl - now;
  return { ...stored, status: left > 0 ? 'passing' : 'critical', leaseLeftMs: Math.max(0, left), index };
}

/** The targets of an entry, as URLs with weights. */
export function targetsOf(info: ServiceInfo): { url: string; weight: number }[] {
  return (info.targets ?? []).map((t) => (typeof t === 'string' ? { url: t, weight: 1 } : { url: t.url, weight: t.weight ?? 1 }));
}

/** Stored form, as JSON for the store. */
export const asJson = (s: StoredService): Json => s as unknown as Json;
