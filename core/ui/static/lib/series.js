// The per-second samples as the charts hold them: one timeline, each route's arrays along it.

const KEEP = 900;
const FIELDS = ['requests', 'errors', 'p50', 'p99'];

/** The store built from the `history` event. */
export function fromHistory(ev) {
  return append({ t: [], routes: {} }, ev);
}

/** The store with the seconds of a `samples` (or `history`) event added, trimmed to 15 minutes. */
export function append(store, ev) {
  const names = Object.keys(ev.routes);
  if (names.length === 0) return store;
  const newT = ev.routes[names[0]].t;
  const t = store.t.concat(newT);
  const routes = {};
  const all = new Set([...Object.keys(store.routes), ...names]);
  for (const name of all) {
    const old = store.routes[name];
    const add = ev.routes[name];
    const r = {};
    for (const f of FIELDS) {
      const before = old ? old[f] : new Array(store.t.length).fill(0);
      r[f] = before.concat(add ? add[f] : new Array(newT.length).fill(0));
    }
    routes[name] = r;
  }
  const cut = Math.max(0, t.length - KEEP);
  if (cut > 0) for (const r of Object.values(routes)) for (const f of FIELDS) r[f] = r[f].slice(cut);
  return { t: t.slice(cut), routes };
}

/** Sum of a field over the last `n` seconds of a route. */
export function lastSum(store, route, field, n) {
  const a = store.routes[route]?.[field] ?? [];
  let s = 0;
  for (let i = Math.max(0, a.length - n); i < a.length; i++) s += a[i];
  return s;
}

/** The last non-zero value of a field (latency of the last second that had requests). */
export function lastValue(store, route, field) {
  const r = store.routes[route];
  if (!r) return null;
  for (let i = r[field].length - 1; i >= 0; i--) if (r.requests[i] > 0) return r[field][i];
  return null;
}
