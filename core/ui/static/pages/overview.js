// Overview: requests/s, p50/p99 latency and error rate per route over the last 15 minutes.
import { Chart } from '../lib/chart.js';
import { num } from '../lib/format.js';
import { html } from '../lib/html.js';
import { lastSum, lastValue } from '../lib/series.js';

function chartData(store, names) {
  const t = store.t;
  const rps = [t, ...names.map((n) => store.routes[n].requests)];
  const lat = [t];
  for (const n of names) {
    const r = store.routes[n];
    lat.push(r.p50.map((v, i) => (r.requests[i] ? v : null)));
    lat.push(r.p99.map((v, i) => (r.requests[i] ? v : null)));
  }
  const err = [t];
  for (const n of names) {
    const r = store.routes[n];
    err.push(r.errors.map((e, i) => (r.requests[i] ? (100 * e) / r.requests[i] : 0)));
  }
  return { rps, lat, err };
}

/** Under server.workers: each worker slot, what it served, and whether it answered the primary. */
function Workers({ workers }) {
  return html`<section class="card">
    <h3>Workers</h3>
    <div class="scroll" tabindex="0" role="region" aria-label="Workers">
      <table id="workers-table">
        <thead>
          <tr>
            <th scope="col">Slot</th>
            <th scope="col">Worker</th>
            <th scope="col">State</th>
            <th scope="col" class="num">Requests</th>
            <th scope="col" class="num">5xx</th>
          </tr>
        </thead>
        <tbody>
          ${workers.map(
            (w) =>
              html`<tr data-worker=${w.worker ?? ''}>
                <th scope="row">${w.slot}</th>
                <td>${w.worker ?? '–'}</td>
                <td>${w.missing ? html`<span class="badge bad" title=${w.missing}>missing</span>` : w.state}</td>
                <td class="num" data-field="requests">${num(w.requests)}</td>
                <td class="num">${num(w.errors)}</td>
              </tr>`,
          )}
        </tbody>
      </table>
    </div>
  </section>`;
}

/** props: series (lib/series.js store), state (the server's snapshot), theme. */
export function Overview({ series, state, theme }) {
  const names = Object.keys(series.routes).sort();
  const workers = state?.workers && html`<${Workers} workers=${state.workers} />`;
  if (names.length === 0)
    return html`<h2>Overview</h2>
      <p class="notice">No requests yet. Charts appear once a route has served one (samples are kept per second for 15 minutes).</p>
      ${workers}`;
  const d = chartData(series, names);
  const total = (f, n) => names.reduce((s, r) => s + lastSum(series, r, f, n), 0);
  const latLabels = names.flatMap((n) => [`${n} p50`, `${n} p99`]);
  return html`<h2>Overview</h2>
    <div class="charts">
      <section class="card">
        <${Chart}
          id="chart-rps"
          title="Requests per second"
          unit="req/s"
          labels=${names}
          data=${d.rps}
          theme=${theme}
          summary=${`Requests per second by route; ${num(total('requests', 10) / 10, 1)} req/s over the last 10 s`}
        />
      </section>
      <section class="card">
        <${Chart}
          id="chart-latency"
          title="Latency p50 / p99"
          unit="ms"
          labels=${latLabels}
          dashes=${latLabels.map((_, i) => (i % 2 ? [6, 4] : 0))}
          points=${true}
          data=${d.lat}
          theme=${theme}
          summary="Median and 99th percentile latency by route, per second"
        />
      </section>
      <section class="card">
        <${Chart}
          id="chart-errors"
          title="Error rate (5xx)"
          unit="%"
          labels=${names}
          data=${d.err}
          theme=${theme}
          minMax=${5}
          summary=${`Share of 5xx answers by route; ${num(total('errors', 60))} in the last minute`}
        />
      </section>
    </div>
    <section class="card">
      <h3>Routes</h3>
      <div class="scroll" tabindex="0" role="region" aria-label="Routes">
        <table id="routes-table">
          <thead>
            <tr>
              <th scope="col">Route</th>
              <th scope="col" class="num">req/s (10 s)</th>
              <th scope="col" class="num">Requests (15 min)</th>
              <th scope="col" class="num">p50</th>
              <th scope="col" class="num">p99</th>
              <th scope="col" class="num">5xx (15 min)</th>
            </tr>
          </thead>
          <tbody>
            ${names.map(
              (n) =>
                html`<tr data-route=${n}>
                  <th scope="row"><code>${n}</code></th>
                  <td class="num">${num(lastSum(series, n, 'requests', 10) / 10, 1)}</td>
                  <td class="num" data-field="requests">${num(lastSum(series, n, 'requests', 900))}</td>
                  <td class="num">${num(lastValue(series, n, 'p50'), 2)} ms</td>
                  <td class="num">${num(lastValue(series, n, 'p99'), 2)} ms</td>
                  <td class="num">${num(lastSum(series, n, 'errors', 900))}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>
    ${workers}`;
}
