// Registry: each service entry, its targets, tags, status and the lease time left.
import { duration, failure } from '../lib/format.js';
import { html } from '../lib/html.js';

function targets(info) {
  return (info.targets ?? []).map((t) => (typeof t === 'string' ? { url: t, weight: 1 } : { url: t.url, weight: t.weight ?? 1 }));
}

/** props: state. */
export function Registry({ state }) {
  const reg = state?.registry;
  if (reg?.off)
    return html`<h2>Registry</h2>
      <p class="notice">The service registry is off (<code>registry:</code> in the config turns it on).</p>`;
  const err = failure(reg);
  if (err)
    return html`<h2>Registry</h2>
      <p class="notice bad">${err.message}</p>`;
  const items = reg?.services ?? [];
  return html`<h2>Registry</h2>
    <section class="card">
      <div class="scroll" tabindex="0" role="region" aria-label="Service entries">
        <table class="stack">
          <thead>
            <tr>
              <th scope="col">Service</th>
              <th scope="col">Status</th>
              <th scope="col">Targets</th>
              <th scope="col">Tags</th>
              <th scope="col">Lease left</th>
            </tr>
          </thead>
          <tbody>
            ${
              items.length === 0 &&
              html`<tr>
                <td colspan="5" class="muted">No entries.</td>
              </tr>`
            }
            ${items.map(
              (s) =>
                html`<tr data-service=${s.name}>
                  <th scope="row"><code>${s.name}</code></th>
                  <td data-label="Status"><span class=${`badge ${s.status === 'passing' ? 'ok' : 'bad'}`}>${s.status}</span></td>
                  <td data-label="Targets">
                    ${targets(s.info).map((t) => html`<div><code>${t.url}</code>${t.weight !== 1 ? ` ×${t.weight}` : ''}</div>`)}
                  </td>
                  <td data-label="Tags">${(s.info.tags ?? []).join(', ') || '–'}</td>
                  <td data-label="Lease left" data-field="lease">${s.leaseLeftMs === undefined ? 'no lease' : duration(s.leaseLeftMs)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>
    </section>`;
}
