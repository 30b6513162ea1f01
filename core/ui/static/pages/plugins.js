// Plugins: each instance of the running config, whether it started and is ready, and its metrics.
import { num } from '../lib/format.js';
import { html } from '../lib/html.js';

function labels(l) {
  const parts = Object.entries(l).map(([k, v]) => `${k}="${v}"`);
  return parts.length ? `{${parts.join(', ')}}` : '';
}

function Instance({ p }) {
  const ready = p.ready === true;
  return html`<section class="card" data-instance=${p.instance}>
    <h3><code>${p.instance}</code> <span class="muted">${p.plugin}</span></h3>
    <dl class="stats">
      <div>
        <dt>Declared at</dt>
        <dd><code>${p.at}</code></dd>
      </div>
      <div>
        <dt>State</dt>
        <dd>${p.started ? html`<span class="badge ok">started</span>` : html`<span class="badge bad">not started</span>`}</dd>
      </div>
      <div>
        <dt>Ready</dt>
        <dd>${ready ? html`<span class="badge ok">ready</span>` : html`<span class="badge bad">not ready</span> ${p.ready.join('; ')}`}</dd>
      </div>
    </dl>
    <details>
      <summary>Metrics (${p.metrics.length})</summary>
      <div class="scroll" tabindex="0" role="region" aria-label=${`Metrics of ${p.instance}`}>
        <table>
          <thead>
            <tr>
              <th scope="col">Series</th>
              <th scope="col" class="num">Value</th>
            </tr>
          </thead>
          <tbody>
            ${p.metrics.map(
              (m) =>
                html`<tr>
                  <td><code>${m.name}${labels(m.labels)}</code></td>
                  <td class="num">${num(m.value, 3)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </details>
  </section>`;
}

/** props: state. */
export function Plugins({ state }) {
  const list = state?.plugins ?? [];
  return html`<h2>Plugins</h2>
    ${list.length === 0 && html`<p class="notice">No plugins in the running config.</p>`} ${list.map((p) => html`<${Instance} p=${p} />`)}`;
}
