import type { IncomingMessage, ServerResponse } from 'node:http';
import { GatehouseError } from '../errors';
import type { AdminMethod, AdminRequest, AdminRoute, AdminRouter } from '../server/admin-router';
import type { AuthFailures } from '../server/auth-failures';
import type { Gateway } from '../server/gateway';
import { asset, loadAssets, sendAsset, vendorPaths, type Asset } from './assets';
import { streamEvents } from './events';
import { isTls, safeEqual, SessionStore } from './session';
import { UiSnapshot, type ClusterView } from './snapshot';

/** Sent with every /ui answer: only this origin's files run, nothing inline, never in a frame. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  // same-origin, not no-referrer: under no-referrer a form post's Origin is "null", which the origin check refuses.
  'referrer-policy': 'same-origin',
  'x-frame-options': 'DENY',
  'cross-origin-opener-policy': 'same-origin',
  'cross-origin-resource-policy': 'same-origin',
};

/** Dashboard actions → the admin endpoint each one calls (the same handler, in process). */
const ACTIONS: readonly { method: AdminMethod; path: string; target: (p: Record<string, string>) => string }[] = [
  {
    method: 'POST',
    path: '/ui/api/webhooks/:instance/messages/:id/replay',
    target: (p) => `/plugins/${p.instance}/messages/${p.id}/replay`,
  },
  { method: 'POST', path: '/ui/api/webhooks/:instance/replay', target: (p) => `/plugins/${p.instance}/replay` },
  { method: 'DELETE', path: '/ui/api/webhooks/:instance/messages/:id', target: (p) => `/plugins/${p.instance}/messages/${p.id}` },
  { method: 'DELETE', path: '/ui/api/webhooks/:instance/messages', target: (p) => `/plugins/${p.instance}/messages` },
  { method: 'DELETE', path: '/ui/api/tasks/:instance/:id', target: (p) => `/plugins/${p.instance}/tasks/${p.id}` },
];

/** Whether a state-changing request comes from this origin (browsers send Origin on POST/DELETE; a missing one is a non-browser client). */
function sameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  return origin === `${isTls(req) ? 'https' : 'http'}://${req.headers.host}`;
}

/**
 * The dashboard at /ui on the admin listener. Every route is "open" to the admin router's bearer
 * check and checks the dashboard session instead: the login form trades the admin token for a
 * session cookie; the page's actions carry the session's CSRF token and call the admin API's own
 * handlers through the router.
 */
export class Dashboard {
  private readonly sessions = new SessionStore();
  private readonly assets: Map<string, Asset> | Error;
  private router?: AdminRouter;
  private snapshot?: UiSnapshot;

  constructor(
    private readonly gw: Gateway,
    private readonly token: string,
    private readonly failures: AuthFailures,
    /** In a cluster primary: the workers' samples and upstreams, which the pages show instead of this process's. */
    private readonly cluster?: ClusterView,
  ) {
    try {
      this.assets = loadAssets();
      const deps = vendorPaths(this.assets);
      // The page imports its vendor files through this module, so their versioned names live in one place.
      const src =
        `export * from '${deps['preact.mjs']}';\nexport { default as htm } from '${deps['htm.mjs']}';\n` +
        `export { default as uPlot } from '${deps['uplot.mjs']}';\nexport const uPlotCss = '${deps['uplot.css']}';\n`;
      this.assets.set('app/deps.js', asset(Buffer.from(src), 'deps.js', 'no-cache'));
      const login = this.assets.get('app/login.html')!;
      const failed = login.body.toString().replace('<p class="error" hidden>', '<p class="error" role="alert">');
      this.assets.set('app/login-failed.html', asset(Buffer.from(failed), 'login.html', 'no-store'));
    } catch (err) {
      // A missing file must not take the admin API down with it: /ui says what is wrong.
      this.assets = err as Error;
      gw.logger.error({ err }, 'dashboard files cannot be loaded; /ui answers 503');
    }
  }

  /** Give the dashboard the router whose handlers it calls (made after its routes). */
  attach(router: AdminRouter): void {
    this.router = router;
    this.snapshot = new UiSnapshot(this.gw, router, this.cluster);
  }

  /** The session of a request, or the error answering its absence. */
  private session(req: IncomingMessage): { id: string; csrf: string } {
    const s = this.sessions.of(req);
    if (!s) throw new GatehouseError('GH_ERR_UI_LOGIN');
    return s;
  }

  /** A session and its CSRF token, for requests that change something. */
  private action(req: IncomingMessage): { id: string; csrf: string } {
    const s = this.session(req);
    if (!sameOrigin(req) || !this.sessions.csrfMatches(req, s)) throw new GatehouseError('GH_ERR_UI_CSRF');
    return s;
  }

  private file(a: AdminRequest, name: string): void {
    if (this.assets instanceof Error)
      throw new GatehouseError('GH_ERR_INTERNAL', `The dashboard's files cannot be loaded: ${this.assets.message}`);
    const asset = this.assets.get(name);
    if (!asset) throw new GatehouseError('GH_ERR_NOT_FOUND', `No dashboard file /ui/${name}`);
    sendAsset(a.req, a.res, asset, SECURITY_HEADERS);
  }

  private redirect(res: ServerResponse, to: string, headers: Record<string, string> = {}): void {
    res.writeHead(303, { ...SECURITY_HEADERS, location: to, 'cache-control': 'no-store', 'content-length': 0, ...headers });
    res.end();
  }

  private async login(a: AdminRequest): Promise<void> {
    if (!sameOrigin(a.req)) throw new GatehouseError('GH_ERR_UI_CSRF');
    if (this.assets instanceof Error)
      throw new GatehouseError('GH_ERR_INTERNAL', `The dashboard's files cannot be loaded: ${this.assets.message}`);
    this.failures.refuseIfLocked(a.req, a.res);
    const form = await a.readForm({ limit: 4096 });
    if (!safeEqual(form.get('token') ?? '', this.token)) {
      this.failures.fail(a.req);
      this.gw.logger.warn({ client: a.req.socket.remoteAddress }, 'dashboard login refused: wrong token');
      const page = (this.assets as Map<string, Asset>).get('app/login-failed.html')!;
      a.res.writeHead(401, { 'content-type': page.type, 'content-length': page.body.length });
      a.res.end(page.body);
      return;
    }
    const s = this.sessions.create();
    this.redirect(a.res, '/ui/', { 'set-cookie': this.sessions.cookie(s.id, isTls(a.req)) });
  }

  /** The dashboard's routes, for the admin router (all `open`: each checks the session itself). */
  routes(): AdminRoute[] {
    const route = (method: AdminMethod, path: string, handle: (a: AdminRequest) => unknown): AdminRoute => ({
      method,
      path,
      open: true,
      handle: (a) => {
        for (const [k, v] of Object.entries(SECURITY_HEADERS)) a.res.setHeader(k, v);
        a.res.setHeader('cache-control', 'no-store');
        return handle(a);
      },
    });
    const json = (a: AdminRequest, status: number, body: unknown) => a.json(status, body, SECURITY_HEADERS);
    return [
      route('GET', '/ui', (a) => this.redirect(a.res, '/ui/')),
      route('GET', '/ui/', (a) => (this.sessions.of(a.req) ? this.file(a, 'app/index.html') : this.redirect(a.res, '/ui/login'))),
      route('GET', '/ui/login', (a) => this.file(a, 'app/login.html')),
      route('GET', '/ui/login.css', (a) => this.file(a, 'app/login.css')),
      route('POST', '/ui/login', (a) => this.login(a)),
      route('POST', '/ui/logout', (a) => {
        this.sessions.delete(this.action(a.req).id);
        json(a, 200, { loggedOut: true });
      }),
      route('GET', '/ui/api/session', (a) => json(a, 200, { csrf: this.session(a.req).csrf })),
      route('GET', '/ui/api/state', async (a) => {
        this.session(a.req);
        json(a, 200, await this.snapshot!.read(a.req, a.res));
      }),
      route('GET', '/ui/api/events', (a) => {
        this.session(a.req);
        const ring = this.cluster?.samples ?? this.gw.metrics.samples;
        streamEvents(a.req, a.res, ring, this.snapshot!, SECURITY_HEADERS, () => this.sessions.of(a.req) !== undefined);
      }),
      ...ACTIONS.map((act) =>
        route(act.method, act.path, async (a) => {
          this.action(a.req);
          const r = await this.router!.invoke(a.req, a.res, act.method, act.target(a.params));
          json(a, r.status, r.body);
        }),
      ),
      // Anything else under /ui: the allow-listed files with a session; without one, nothing is told.
      route('GET', '/ui/*', (a) => {
        this.session(a.req);
        this.file(a, a.params['*']);
      }),
      ...(['POST', 'PUT', 'DELETE', 'PATCH'] as const).map((m) =>
        route(m, '/ui/*', (a) => {
          this.session(a.req);
          throw new GatehouseError('GH_ERR_NOT_FOUND', `No dashboard endpoint ${m} ${a.path}`);
        }),
      ),
    ];
  }
}
