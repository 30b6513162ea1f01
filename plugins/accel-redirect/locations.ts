import type { LocationOptions } from './schema';

/** A compiled internal location. */
export interface Location {
  readonly prefix: string;
  readonly upstream?: string;
  readonly target?: string;
  readonly stripPrefix: boolean;
}

/** Where an X-Accel-Redirect goes: the location and the path (with query) to fetch. */
export interface Resolved {
  readonly location: Location;
  readonly path: string;
}

/** Does `path` fall under `prefix`? A prefix without a trailing slash still ends at a segment boundary. */
function under(path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false;
  return prefix.endsWith('/') || path.length === prefix.length || path[prefix.length] === '/';
}

/** Decode %XX escapes that are valid UTF-8; leave the rest as they are. */
function decode(segment: string): string {
  if (!segment.includes('%')) return segment;
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/**
 * The path a server would see: percent-escapes decoded, `//` collapsed, `.` and `..`
 * resolved (never above the root), no trailing slash. Used to decide whether a client path is internal,
 * so that `/%61rchivei_accel/1`, `//archivei_accel/1` or `/x/../archivei_accel/1` are caught.
 */
export function normalizePath(path: string): string {
  const out: string[] = [];
  // Decoding can reveal new separators (%2F): split again after decoding.
  for (const segment of path
    .split('/')
    .map(decode)
    .join('/')
    .split(/[/\\]+/)) {
    if (segment === '' || segment === '.') continue;
    if (segment === '..') out.pop();
    else out.push(segment);
  }
  return `/${out.join('/')}`;
}

/** The internal locations of one plugin instance, longest prefix first. */
export class Locations {
  private readonly list: Location[];

  constructor(map: Readonly<Record<string, LocationOptions>>) {
    this.list = Object.entries(map)
      .map(([prefix, o]) => ({ prefix, upstream: o.upstream, target: o.target, stripPrefix: o.stripPrefix }))
      .sort((a, b) => b.prefix.length - a.prefix.length);
  }

  get all(): readonly Location[] {
    return this.list;
  }

  /** Whether a client request path reaches an internal location (then it must be refused). */
  isInternal(requestPath: string): boolean {
    const normalized = normalizePath(requestPath);
    return this.list.some((l) => under(normalized, l.prefix) || under(`${normalized}/`, l.prefix));
  }

  /**
   * Map an X-Accel-Redirect value to a location. Returns a reason string when it cannot
   * be served: not an absolute path, dot segments or NUL (nginx's "unsafe URI"), or no location.
   */
  resolve(value: string): Resolved | string {
    const q = value.indexOf('?');
    const path = q < 0 ? value : value.slice(0, q);
    const query = q < 0 ? '' : value.slice(q);
    if (!path.startsWith('/') || path.startsWith('//')) return 'not an absolute path';
    const decoded = path.split('/').map(decode);
    if (decoded.some((s) => s === '.' || s === '..' || s.includes('\0') || /(^|[/\\])\.\.?([/\\]|$)/.test(s)))
      return 'unsafe path (dot segments or NUL)';
    const location = this.list.find((l) => under(path, l.prefix));
    if (!location) return 'no internal location matches it';
    let rest = location.stripPrefix ? path.slice(location.prefix.length) : path;
    if (!rest.startsWith('/')) rest = `/${rest}`;
    return { location, path: rest + query };
  }
}
