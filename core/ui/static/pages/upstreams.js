// Upstreams: each target's health, in-flight requests, ejections, retries and latency; each upstream's queue.
import { failure, num } from '../lib/format.js';
import { html } from '../lib/html.js';

// Under server.workers, merged: down when any worker sees it down, naming those workers.
function inWorkers(ids) {
  return ids?.length ? ` (worker${ids.length > 1 ? 's' : ''} ${ids.join(', ')})` : '';
}

function health(t) {
  if (t.ejected) return html`<span class="badge warn">ejected${inWorkers(t.ejectedIn)}</span>`;
  if (!t.healthy) return html`<span class="badge bad">unhealthy${inWorkers(t.unhealthyIn)}</span>`;
  return html`<span class="badge ok">healthy</span>`;
}

function Upstream({ name, u }) {
  return html`<section class="card" data-upstream=${name}>
    <h3><code>${name}</code></h3>
    <dl class="stats">
      <div>
        <dt>Balance</dt>
        <dd>${u.balance}</dd>
      </div>
      <div>
        <dt>Queued</dt>
        <dd data-field="queued">${num(u.queued)}</dd>
      </div>
      <div>
        <dt>Open sockets</dt>
        <dd>${num(u.openSockets)}</dd>
      </div>
      <div>
        <dt>Panic mode</dt>
        <dd>${u.panic ? html`<span class="bad">yes</span>` : 'no'}</dd>
      </div>
    </dl>
    <div class="scroll" tabindex="0" role="region" aria-label=${`Targets of ${name}`}>
      <table class="stack">
        <thead>
          <tr>
            <th scope="col">Target</th>
            <th scope="col">Health</th>
            <th scope="col" class="num">In flight</th>
            <th scope="col" class="num">Limit</th>
            <th scope="col" class="num">Ejections</th>
            <th scope="col" class="num">Retries</th>
            <th scope="col" class="num">Picks</th>
            <th scope="col" class="num">Latency (EWMA)</th>
          </tr>
        </thead>
        <tbody>
          ${
            u.targets.length === 0 &&
            html`<tr>
              <td colspan="8" class="muted">No targets.</td>
            </tr>`
          }
          ${u.targets.map(
            (t) =>
              html`<tr data-target=${t.url}>
                <th scope="row"><code>${t.url}</code></th>
                <td data-label="Health" data-field="health">${health(t)}</td>
                <td data-label="In flight" class="num">${num(t.inflight)}</td>
                <td data-label="Limit" class="num">${t.maxConnections ?? '–'}</td>
                <td data-label="Ejections" class="num">${num(t.ejections)}</td>
                <td data-label="Retries" class="num">${num(t.retries)}</td>
                <td data-label="Picks" class="num">${num(t.picks)}</td>
                <td data-label="Latency" class="num">${num(t.latencyEwmaMs, 2)} ms</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}

/** props: state (the server's snapshot). */
export function Upstreams({ state }) {
  const ups = state?.upstreams;
  const err = failure(ups);
  if (err)
    return html`<h2>Upstreams</h2>
      <p class="notice bad">${err.message}</p>`;
  const names = Object.keys(ups ?? {}).sort();
  const workers = state?.workers;
  return html`<h2>Upstreams</h2>
    ${
      workers &&
      html`<p class="muted" id="upstreams-merged">
        As the ${workers.length} workers see them: counts summed, latency the worst worker's, a target unhealthy or ejected when any worker
        has it so.
      </p>`
    }
    ${names.length === 0 && html`<p class="notice">No upstreams declared.</p>`}
    ${names.map((n) => html`<${Upstream} name=${n} u=${ups[n]} />`)}`;
}
