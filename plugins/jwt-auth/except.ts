import { withoutParams } from '../../core/plugin-api';
import type { ExceptRule } from './schema';

type PathTest = (path: string) => boolean;

/** A path test with a route match's semantics (core's router): prefix by segment, exact, or regex. */
function pathTest(rule: ExceptRule): PathTest {
  if (rule.pathExact !== undefined) {
    const p = rule.pathExact;
    return (path) => path === p;
  }
  if (rule.pathRegex !== undefined) {
    const re = new RegExp(rule.pathRegex);
    return (path) => re.test(path);
  }
  const prefix = rule.path ?? '/';
  if (prefix === '/') return () => true;
  // `/a` matches /a and /a/x but not /ab; `/a/` matches only below it.
  if (prefix.endsWith('/')) return (path) => path.startsWith(prefix);
  return (path) => path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * The `except` rules, compiled once. A rule holds when the path matches it both as routes see it
 * (segments without `;parameters`) and as it is sent upstream: an exemption skips authentication,
 * so a parameter must not widen it for a backend that reads `/status;x` as another resource
 * than `/status`.
 */
export class ExceptRules {
  private readonly rules: { readonly path: PathTest; readonly methods?: ReadonlySet<string> }[];

  constructor(rules: readonly ExceptRule[]) {
    this.rules = rules.map((r) => ({ path: pathTest(r), ...(r.methods ? { methods: new Set(r.methods) } : {}) }));
  }

  /** Whether a request passes without a token. `path` is ctx.path (normalised, parameters kept). */
  exempts(method: string, path: string): boolean {
    if (this.rules.length === 0) return false;
    const routed = withoutParams(path);
    return this.rules.some((r) => (!r.methods || r.methods.has(method)) && r.path(routed) && (routed === path || r.path(path)));
  }
}
