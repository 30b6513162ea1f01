import { createHash } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { errors } from './errors';

/** A message parsed as a flat record: form fields, or a JSON object's members. */
export type ParsedBody =
  { readonly kind: 'form'; readonly form: URLSearchParams } | { readonly kind: 'json'; readonly json: Record<string, unknown> };

function invalid(why: string): never {
  throw errors.create('INVALID', `The webhook body ${why}`);
}

/** The media type of a Content-Type value, lower-cased, without parameters. */
export function mediaType(contentType: string | undefined): string {
  const semi = (contentType ?? '').indexOf(';');
  return (semi < 0 ? (contentType ?? '') : contentType!.slice(0, semi)).trim().toLowerCase();
}

/**
 * Parse a form or JSON body (by its Content-Type; sniffed by its first byte when it has none).
 * Anything else, or malformed text, is GH_ERR_WEBHOOK_INGEST_INVALID (400).
 */
export function parseBody(raw: Buffer, contentType: string | undefined): ParsedBody {
  if (raw.length === 0) invalid('is empty');
  let type = mediaType(contentType);
  if (type === '') type = raw[0] === 0x7b ? 'application/json' : 'application/x-www-form-urlencoded';
  if (type === 'application/x-www-form-urlencoded') {
    const text = raw.toString('utf8');
    if (text.includes('\ufffd')) invalid('is not UTF-8');
    return { kind: 'form', form: new URLSearchParams(text) };
  }
  if (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))) {
    let value: unknown;
    try {
      value = JSON.parse(raw.toString('utf8'));
    } catch {
      invalid('is not valid JSON');
    }
    if (!value || typeof value !== 'object' || Array.isArray(value)) invalid('is not a JSON object');
    return { kind: 'json', json: value as Record<string, unknown> };
  }
  return invalid(`has Content-Type ${type}; expected a form or JSON`);
}

/** A JSON member by dotted path, as text (strings as they are, numbers and booleans written out). */
export function jsonField(json: Record<string, unknown>, path: string): string | undefined {
  let v: unknown = json;
  for (const part of path.split('.')) {
    if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? String(v) : undefined;
}

/** One part of a dedupe key or orderBy: where its value comes from. */
export type FieldRef =
  | { readonly from: 'body' }
  | { readonly from: 'header'; readonly name: string }
  | { readonly from: 'form' | 'json' | 'any'; readonly name: string };

/** `body`, `header:x`, `form:x`, `json:a.b` or a plain name (the preset's fields, then form or JSON). */
export function parseFieldRef(text: string): FieldRef {
  if (text === 'body') return { from: 'body' };
  const colon = text.indexOf(':');
  const kind = colon < 0 ? '' : text.slice(0, colon);
  if (kind === 'header') return { from: 'header', name: text.slice(colon + 1).toLowerCase() };
  if (kind === 'form' || kind === 'json') return { from: kind, name: text.slice(colon + 1) };
  return { from: 'any', name: text };
}

/** What field references are resolved against for one request; the body is parsed once, when first needed. */
export class FieldSource {
  private parsed?: ParsedBody;

  constructor(
    private readonly raw: Buffer,
    private readonly headers: IncomingHttpHeaders,
    private readonly known: Readonly<Record<string, string>> | undefined,
  ) {}

  /** The value of `ref`, or undefined when the message has none. */
  get(ref: FieldRef): string | undefined {
    switch (ref.from) {
      case 'body':
        return createHash('sha256').update(this.raw).digest('hex');
      case 'header': {
        const v = this.headers[ref.name];
        return Array.isArray(v) ? v.join(', ') : v;
      }
      default: {
        if (ref.from === 'any' && this.known && Object.hasOwn(this.known, ref.name)) return this.known[ref.name];
        this.parsed ??= parseBody(this.raw, this.headers['content-type']);
        const p = this.parsed;
        if (ref.from === 'form' && p.kind !== 'form') return undefined;
        if (ref.from === 'json' && p.kind !== 'json') return undefined;
        return p.kind === 'form' ? (p.form.get(ref.name) ?? undefined) : jsonField(p.json, ref.name);
      }
    }
  }

  /** Every ref's value joined into one key; a missing one is GH_ERR_WEBHOOK_INGEST_INVALID. */
  key(refs: readonly FieldRef[], what: string): string {
    return refs
      .map((ref) => {
        const v = this.get(ref);
        if (v === undefined) invalid(`has no ${'name' in ref ? ref.name : 'body'}, which ${what} needs`);
        return v;
      })
      .join('\u0000');
  }
}
