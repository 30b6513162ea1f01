import type { IncomingHttpHeaders } from 'node:http';
import type { KeyObject } from 'node:crypto';
import { errors } from '../errors';

/** What a preset gets of one request: the raw bytes, before anything parsed them. */
export interface Inbound {
  readonly raw: Buffer;
  readonly headers: IncomingHttpHeaders;
  /** Client address after the trusted-proxy rules. */
  readonly clientIp: string;
  /** Epoch ms, for timestamp tolerances. */
  readonly now: number;
}

/** A verified (or, by policy, let through unsigned) request. */
export interface Verdict {
  /** Whether a signature was checked; false when the request carried none and policy let it in. */
  readonly signed: boolean;
  /** The preset's dedupe key, when it has one for this request. */
  readonly dedupe?: string;
  /** Message fields the preset parsed (rockblock: the signed claims), for orderBy and dedupe.key. */
  readonly fields?: Readonly<Record<string, string>>;
}

/** Checks one request; throws GH_ERR_WEBHOOK_INGEST_UNVERIFIED (401) or _INVALID (400). */
export interface Verifier {
  verify(inbound: Inbound): Verdict | Promise<Verdict>;
}

/** Unsigned-post policy of the rockblock preset. */
export interface UnsignedPolicy {
  readonly imeis: ReadonlySet<string>;
  /** Whether a client address is in the allowed source ranges. */
  allowsIp(ip: string): boolean;
}

/** What the presets are built from: options with their secrets and keys already read. */
export interface PresetSettings {
  readonly required: boolean;
  /** Secrets as configured (text), each accepted. */
  readonly secrets: readonly string[];
  /** rockblock: RSA public keys. */
  readonly keys: readonly KeyObject[];
  readonly toleranceSec: number;
  readonly header?: string;
  readonly algorithm: 'sha1' | 'sha256' | 'sha512';
  readonly encoding: 'hex' | 'base64';
  readonly prefix: string;
  readonly allowUnsigned: UnsignedPolicy;
}

/** The answer for a request carrying nothing to verify: refused when verification is required (fail closed). */
export function unsigned(settings: PresetSettings, missing: string): Verdict {
  if (settings.required) throw errors.create('UNVERIFIED', `The webhook carries no ${missing}`);
  return { signed: false };
}

/** A header's single value ('' when absent; several values are refused as ambiguous). */
export function header(headers: IncomingHttpHeaders, name: string): string {
  const v = headers[name];
  if (Array.isArray(v)) throw errors.create('UNVERIFIED', `The webhook carries ${name} more than once`);
  return v ?? '';
}

/** Refuse a signed timestamp (seconds) that is not a number or too far from now. */
export function checkTimestamp(text: string, now: number, toleranceSec: number): void {
  if (!/^[0-9]{1,15}$/.test(text)) throw errors.create('UNVERIFIED', 'The webhook timestamp is not a number of seconds');
  const skew = Math.abs(now / 1000 - Number(text));
  if (skew > toleranceSec)
    throw errors.create('UNVERIFIED', `The webhook timestamp is ${Math.round(skew)} s from now (tolerance ${toleranceSec} s)`);
}

/** Refuse a signature that matched no secret. */
export function mismatch(what: string): never {
  throw errors.create('UNVERIFIED', `The ${what} matches none of the configured secrets`);
}
