// Webhook queues: depth, oldest age, dead letters with their last error; replay and purge.
import { seg } from '../lib/api.js';
import { ago, duration, failure, num } from '../lib/format.js';
import { html } from '../lib/html.js';

function Queue({ q, run, now }) {
  const err = failure(q);
  const base = `/ui/api/webhooks/${seg(q.instance)}`;
  if (err)
    return html`<section class="card">
      <h3><code>${q.instance}</code></h3>
      <p class="notice bad">${err.message}</p>
    </section>`;
  const s = q.stats;
  // GET /plugins/<id>/messages?state=dead: { stats, messages: [{ id, attempts, endedAt, lastError }] }
  const dead = (q.messages ?? []).map((m) => ({ id: m.id, attempts: m.attempts, deadAt: m.endedAt, error: m.lastError ?? '' }));
  const depth = s.ready + s.delayed + s.leased;
  return html`<section class="card" data-queue=${q.instance}>
    <h3><code>${q.instance}</code></h3>
    <dl class="stats">
      <div>
        <dt>Depth</dt>
        <dd data-field="depth">${num(depth)}</dd>
      </div>
      <div>
        <dt>Ready</dt>
        <dd>${num(s.ready)}</dd>
      </div>
      <div>
        <dt>Retrying</dt>
        <dd>${num(s.delayed)}</dd>
      </div>
      <div>
        <dt>Sending</dt>
        <dd>${num(s.leased)}</dd>
      </div>
      <div>
        <dt>Oldest</dt>
        <dd>${s.oldestAgeMs ? duration(s.oldestAgeMs) : '–'}</dd>
      </div>
      <div>
        <dt>Dead letters</dt>
        <dd data-field="dead" class=${s.dead ? 'bad' : ''}>${num(s.dead)}</dd>
      </div>
    </dl>
    <div class="actions">
      <button type="button" disabled=${!s.dead} onClick=${() => run('POST', `${base}/replay`, `Replay all dead letters of ${q.instance}`)}>
        Replay all
      </button>
      <button
        type="button"
        class="danger"
        disabled=${!s.dead}
        onClick=${() => run('DELETE', `${base}/messages`, `Purge all dead letters of ${q.instance}`, true)}
      >
        Purge all
      </button>
    </div>
    ${
      dead.length > 0 &&
      html`<div class="scroll" tabindex="0" role="region" aria-label=${`Dead letters of ${q.instance}`}>
        <table class="stack">
          <thead>
            <tr>
              <th scope="col">Message</th>
              <th scope="col" class="num">Attempts</th>
              <th scope="col">Dead since</th>
              <th scope="col">Last error</th>
              <th scope="col">Actions</th>
            </tr>
          </thead>
          <tbody>
            ${dead.map(
              (d) =>
                html`<tr data-message=${d.id}>
                  <th scope="row"><code>${d.id}</code></th>
                  <td data-label="Attempts" class="num">${num(d.attempts)}</td>
                  <td data-label="Dead since">${ago(d.deadAt, now)}</td>
                  <td data-label="Last error" class="bad">${d.error}</td>
                  <td>
                    <div class="actions">
                      <button
                        type="button"
                        aria-label=${`Replay ${d.id}`}
                        onClick=${() => run('POST', `${base}/messages/${seg(d.id)}/replay`, `Replay ${d.id}`)}
                      >
                        Replay
                      </button>
                      <button
                        type="button"
                        class="danger"
                        aria-label=${`Purge ${d.id}`}
                        onClick=${() => run('DELETE', `${base}/messages/${seg(d.id)}`, `Purge ${d.id}`)}
                      >
                        Purge
                      </button>
                    </div>
                  </td>
                </tr>`,
            )}
          </tbody>
        </table>
      </div>`
    }
  </section>`;
}

/** props: state, run (an action: method, url, label, confirm?). */
export function Webhooks({ state, run }) {
  const list = state?.webhooks ?? [];
  return html`<h2>Webhook queues</h2>
    ${list.length === 0 && html`<p class="notice">No webhook-ingest instance in the running config.</p>`}
    ${list.map((q) => html`<${Queue} q=${q} run=${run} now=${state.at} />`)}`;
}
