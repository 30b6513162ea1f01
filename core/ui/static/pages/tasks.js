// Tasks: queued and running tasks of each plugin with a task list (GET /plugins/<instance>/tasks), with progress and cancel.
import { seg } from '../lib/api.js';
import { ago, clock, duration, failure, num } from '../lib/format.js';
import { html } from '../lib/html.js';

const ORDER = { running: 0, queued: 1, failed: 2, canceled: 3 };
const BADGE = { running: 'ok', queued: 'warn', failed: 'bad', canceled: 'muted' };

/** Progress as a fraction: 0..1 as given, or a percentage above 1. */
function fraction(p) {
  if (typeof p !== 'number' || Number.isNaN(p)) return null;
  return Math.min(1, Math.max(0, p > 1 ? p / 100 : p));
}

function Row({ t, run, instance, now }) {
  const f = fraction(t.progress);
  const live = t.state === 'queued' || t.state === 'running';
  return html`<tr data-task=${t.id} data-state=${t.state}>
    <th scope="row"><code>${t.id}</code></th>
    <td data-label="Service">${t.service ?? '–'}</td>
    <td data-label="State"><span class=${`badge ${BADGE[t.state] ?? ''}`}>${t.state}</span></td>
    <td data-label="Progress">
      ${
        f === null
          ? '–'
          : html`<progress max="1" value=${f} aria-label=${`Progress of ${t.id}`}>${Math.round(f * 100)}%</progress>
              ${Math.round(f * 100)}%`
      }
    </td>
    <td data-label="Message">${t.message ?? ''}</td>
    <td data-label="Attempts" class="num">${num(t.attempts)}</td>
    <td data-label="Worker">${t.worker ?? '–'}</td>
    <td data-label="Started">${t.startedAt ? ago(t.startedAt, now) : `queued ${ago(t.createdAt, now)}`}</td>
    <td data-label="ETA">${t.eta ? (typeof t.eta === 'number' ? duration(t.eta) : clock(t.eta)) : '–'}</td>
    <td>
      ${
        live &&
        html`<button
          type="button"
          class="danger"
          aria-label=${`Cancel ${t.id}`}
          onClick=${() => run('DELETE', `/ui/api/tasks/${seg(instance)}/${seg(t.id)}`, `Cancel task ${t.id}`)}
        >
          Cancel
        </button>`
      }
    </td>
  </tr>`;
}

function TaskList({ l, run, now }) {
  const err = failure(l);
  const tasks = [...(l.tasks ?? [])].sort((a, b) => (ORDER[a.state] ?? 9) - (ORDER[b.state] ?? 9));
  const count = (s) => tasks.filter((t) => t.state === s).length;
  return html`<section class="card" data-tasks=${l.instance}>
    <h3><code>${l.instance}</code></h3>
    ${err && html`<p class="notice bad">${err.message}</p>`}
    <dl class="stats">
      <div>
        <dt>Running</dt>
        <dd>${num(count('running'))}</dd>
      </div>
      <div>
        <dt>Queued</dt>
        <dd>${num(count('queued'))}</dd>
      </div>
    </dl>
    <div class="scroll" tabindex="0" role="region" aria-label=${`Tasks of ${l.instance}`}>
      <table class="stack">
        <thead>
          <tr>
            <th scope="col">Task</th>
            <th scope="col">Service</th>
            <th scope="col">State</th>
            <th scope="col">Progress</th>
            <th scope="col">Message</th>
            <th scope="col" class="num">Attempts</th>
            <th scope="col">Worker</th>
            <th scope="col">Started</th>
            <th scope="col">ETA</th>
            <th scope="col">Actions</th>
          </tr>
        </thead>
        <tbody>
          ${
            tasks.length === 0 &&
            html`<tr>
              <td colspan="10" class="muted">No queued or running tasks.</td>
            </tr>`
          }
          ${tasks.map((t) => html`<${Row} t=${t} run=${run} instance=${l.instance} now=${now} />`)}
        </tbody>
      </table>
    </div>
  </section>`;
}

/** props: state, run. */
export function Tasks({ state, run }) {
  const list = state?.tasks ?? [];
  return html`<h2>Tasks</h2>
    ${list.length === 0 && html`<p class="notice">No plugin with a task list (such as load-balancer) in the running config.</p>`}
    ${list.map((l) => html`<${TaskList} l=${l} run=${run} now=${state.at} />`)}`;
}
