import type { Logger } from 'pino';
import type { LoadedConfig } from '../config/load';
import type { Middleware } from '../pipeline/context';
import { compose } from '../pipeline/compose';
import { GatehouseError, pluginError } from '../errors';
import type { ContextInit, ProxyHooks, RequestContext } from '../pipeline/request-context';
import { guardHandle, instantiate, startAll, stopAll, type LivePlugin, type ScopeDeps } from '../plugin/lifecycle';
import { Router, type CompiledRoute } from '../routing/router';
import { createPools, UpstreamPool } from '../upstream/pool';
import type { UpstreamConfig } from '../config/types';

/** Settings for targets that plugins pick by URL; the same defaults as the schema's. */
const AD_HOC_DEFAULTS: Omit<UpstreamConfig, 'targets'> = { timeout: 60000, maxSockets: 256, maxFreeSockets: 64, keepAliveMs: 30000, changeOrigin: true, insecure: false };

/** Everything one route needs per request, built once. */
export interface RouteRuntime {
  readonly route: CompiledRoute;
  readonly pipeline: (ctx: RequestContext, last: () => Promise<void>) => Promise<void>;
  readonly hooks: ProxyHooks;
}

/**
 * One generation of configuration: routes, upstream pools and started plugins.
 * A reload builds a new Runtime; the old one serves its in-flight requests and is
 * disposed when the last of them ends.
 */
export class Runtime {
  inflight = 0;
  /** Core's ctx.forward for requests of this generation (set by the gateway). */
  forward: ContextInit['forward'] = () => Promise.reject(new GatehouseError('GH_ERR_INTERNAL', 'ctx.forward is not wired'));
  private retired = false;
  private disposed?: Promise<void>;

  private constructor(
    readonly loaded: LoadedConfig,
    readonly router: Router,
    readonly pools: Map<string, UpstreamPool>,
    readonly routes: readonly RouteRuntime[],
    private readonly plugins: readonly LivePlugin[],
    private readonly log: Logger,
  ) {}

  /** Instantiate and start every plugin; on any failure nothing is left running. */
  static async create(loaded: LoadedConfig, deps: Omit<ScopeDeps, 'configDir' | 'upstreams'>): Promise<Runtime> {
    const scopeDeps: ScopeDeps = { ...deps, configDir: loaded.dir, upstreams: Object.keys(loaded.config.upstreams) };
    const created: LivePlugin[] = [];
    const make = async (list: LoadedConfig['globalPlugins']): Promise<LivePlugin[]> => {
      const out: LivePlugin[] = [];
      for (const p of list) {
        const live = await instantiate(p, scopeDeps);
        created.push(live);
        out.push(live);
      }
      return out;
    };
    try {
      const globals = await make(loaded.globalPlugins);
      const perRoute: LivePlugin[][] = [];
      for (const list of loaded.routePlugins) perRoute.push(await make(list));
      await startAll(created, deps.logger);
      const router = new Router(loaded.config.routes);
      const routes = router.routes.map((route, i) => buildRoute(route, [...globals, ...perRoute[i]]));
      return new Runtime(loaded, router, createPools(loaded.config.upstreams), routes, created, deps.logger);
    } catch (err) {
      await stopAll(created, deps.logger);
      throw err;
    }
  }

  private readonly adHoc = new Map<string, UpstreamPool>();

  /** A pool for a target URL chosen by a plugin (`ctx.target`), made once per origin. */
  adHocPool(target: string): UpstreamPool {
    let pool = this.adHoc.get(target);
    if (!pool) {
      pool = new UpstreamPool(target, { ...AD_HOC_DEFAULTS, targets: [target] });
      this.adHoc.set(target, pool);
    }
    return pool;
  }

  /** The pool for a plugin-chosen target URL (wins) or a declared upstream name, if any. */
  poolFor(target: string | undefined, upstream: string | undefined): UpstreamPool | undefined {
    if (target) return this.adHocPool(target);
    return upstream ? this.pools.get(upstream) : undefined;
  }

  /** Called when a newer runtime takes over. */
  retire(): Promise<void> {
    this.retired = true;
    return this.inflight === 0 ? this.dispose() : new Promise((resolve) => this.waiters.push(resolve));
  }

  private readonly waiters: (() => void)[] = [];

  enter(): void {
    this.inflight++;
  }

  leave(): void {
    this.inflight--;
    if (this.retired && this.inflight === 0) void this.dispose().then(() => this.waiters.splice(0).forEach((w) => w()));
  }

  /** Stop plugins and close upstream sockets (idempotent). */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      await stopAll(this.plugins, this.log);
      for (const pool of [...this.pools.values(), ...this.adHoc.values()]) pool.destroy();
    })();
    return this.disposed;
  }
}

function buildRoute(route: CompiledRoute, plugins: readonly LivePlugin[]): RouteRuntime {
  const stack = plugins.map(guardHandle).filter((m): m is Middleware => m !== undefined);
  const onProxyRequest = plugins.filter((p) => p.instance.onProxyRequest).map((p) => p.instance.onProxyRequest!.bind(p.instance));
  const onProxyResponse = plugins.filter((p) => p.instance.onProxyResponse).map((p) => p.instance.onProxyResponse!.bind(p.instance));
  const interceptResponse = plugins.filter((p) => p.instance.interceptResponse).map((p) => {
    const claim = p.instance.interceptResponse!.bind(p.instance);
    return async function intercept(ctx: Parameters<typeof claim>[0], proxyRes: Parameters<typeof claim>[1]) {
      try {
        return await claim(ctx, proxyRes);
      } catch (cause) {
        throw cause instanceof GatehouseError ? cause : pluginError('GH_ERR_PLUGIN_FAILED', p.name, cause);
      }
    };
  });
  return { route, pipeline: compose(stack), hooks: { onProxyRequest, onProxyResponse, interceptResponse } };
}
