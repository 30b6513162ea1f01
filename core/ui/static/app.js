// The dashboard: a shell with navigation, one Server-Sent Events stream feeding every page.
import { Component, render, uPlotCss } from './deps.js';
import { act, loadSession } from './lib/api.js';
import { html } from './lib/html.js';
import { append, fromHistory } from './lib/series.js';
import { Overview } from './pages/overview.js';
import { Plugins } from './pages/plugins.js';
import { Registry } from './pages/registry.js';
import { Tasks } from './pages/tasks.js';
import { Upstreams } from './pages/upstreams.js';
import { Webhooks } from './pages/webhooks.js';

const PAGES = [
  ['overview', 'Overview', Overview],
  ['upstreams', 'Upstreams', Upstreams],
  ['plugins', 'Plugins', Plugins],
  ['webhooks', 'Webhook queues', Webhooks],
  ['tasks', 'Tasks', Tasks],
  ['registry', 'Registry', Registry],
];

function pageOf(hash) {
  const id = hash.replace(/^#/, '');
  return PAGES.some(([p]) => p === id) ? id : 'overview';
}

/** One page failing to render shows its error; the shell and the other pages go on. */
class Guard extends Component {
  componentDidCatch(error) {
    this.setState({ error });
  }

  render({ children }, { error }) {
    return error ? html`<p class="notice bad" role="alert">This page failed to render: ${String(error.message ?? error)}</p>` : children;
  }
}

const darkQuery = matchMedia('(prefers-color-scheme: dark)');

class App extends Component {
  state = {
    page: pageOf(location.hash),
    series: { t: [], routes: {} },
    data: null,
    live: false,
    notice: null,
    theme: darkQuery.matches ? 'dark' : 'light',
  };

  async componentDidMount() {
    addEventListener('hashchange', () => this.go(pageOf(location.hash)));
    darkQuery.addEventListener('change', (e) => this.setState({ theme: e.matches ? 'dark' : 'light' }));
    if (!(await loadSession())) return location.assign('/ui/login');
    this.connect();
  }

  go(page) {
    this.setState({ page });
    const label = PAGES.find(([p]) => p === page)[1];
    document.title = `${label} · Gatehouse dashboard`;
  }

  connect() {
    const es = new EventSource('/ui/api/events');
    es.addEventListener('open', () => this.setState({ live: true }));
    es.addEventListener('history', (e) => this.setState({ series: fromHistory(JSON.parse(e.data)) }));
    es.addEventListener('samples', (e) => this.setState((s) => ({ series: append(s.series, JSON.parse(e.data)) })));
    es.addEventListener('state', (e) => this.setState({ data: JSON.parse(e.data) }));
    es.addEventListener('error', async () => {
      this.setState({ live: false });
      // The browser retries by itself, unless the answer was an error (a lapsed session): then see why.
      if (es.readyState === EventSource.CLOSED) {
        if (!(await loadSession().catch(() => true))) return location.assign('/ui/login');
        setTimeout(() => this.connect(), 2000);
      }
    });
  }

  /** Run an action (replay, purge, cancel) and say how it went; `confirmFirst` asks before a bulk one. */
  run = async (method, url, label, confirmFirst = false) => {
    if (confirmFirst && !confirm(`${label}?`)) return;
    this.setState({ notice: { text: `${label}…`, bad: false } });
    try {
      const body = await act(method, url);
      this.setState({ notice: { text: `${label}: done ${body ? JSON.stringify(body) : ''}`, bad: false } });
    } catch (err) {
      this.setState({ notice: { text: `${label}: ${err.message}`, bad: true } });
    }
  };

  logout = async () => {
    try {
      await act('POST', '/ui/logout');
    } finally {
      location.assign('/ui/login');
    }
  };

  render(_, { page, series, data, live, notice, theme }) {
    const Page = PAGES.find(([p]) => p === page)[2];
    return html`<header>
        <h1>Gatehouse</h1>
        <nav aria-label="Pages">
          <ul>
            ${PAGES.map(([id, label]) => html`<li><a href=${`#${id}`} aria-current=${id === page ? 'page' : undefined}>${label}</a></li>`)}
          </ul>
        </nav>
        <span class="grow"></span>
        <span class="status" role="status" id="live">${live ? 'Live' : 'Connecting…'}</span>
        <button type="button" onClick=${this.logout}>Log out</button>
      </header>
      <main id="main">
        ${notice && html`<p class=${`notice ${notice.bad ? 'bad' : ''}`} role="status" id="notice">${notice.text}</p>`}
        <${Guard} key=${page}><${Page} series=${series} state=${data} theme=${theme} run=${this.run} /><//>
      </main>`;
  }
}

const link = document.createElement('link');
link.rel = 'stylesheet';
link.href = uPlotCss;
document.head.append(link);
const root = document.getElementById('app');
root.textContent = ''; // the loading note
render(html`<${App} />`, root);
