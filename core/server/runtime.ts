import type { LoadedConfig } from '../config/load';
import type { Middleware } from '../pipeline/context';
import { compose } from '../pipeline/compose';
import { GatehouseError } from '../errors';
import type { ContextInit, ProxyHooks, RequestContext } from '../pipeline/request-context';
import { PluginGuard } from '../plugin/guard';
import { instantiate, startAll, stopAll, type LivePlugin, type ScopeDeps } from '../plugin/lifecycle';
import { Router, type CompiledRoute } from '../routing/router';
import { TaskRunner } from '../plugin/tasks';
import { InflightWork } from '../plugin/inflight';
import type { AdminRoute } from './admin-router';
import type { UpstreamPool } from '../upstream/pool';
import type { UpstreamRegistry } from '../upstream/registry';
import type { UpstreamConfig } from '../config/types';
import { defaultsOf } from '../config/defaults';
import { coreSchema } from '../config/schema';
import type { JsonSchema } from '../plugin/contract';
import { useReadBuffer } from '../tuning/read-buffer';
import type { LockStore } from '../store/types';

/**
 * Settings for targets that plugins pick by URL: an upstream's defaults, read from the schema,
 * except that such a target gets its own Host (changeOrigin): the client's Host names this
 * gateway's route, not a URL a plugin computed (an archive, a metadata service).
 */
export const AD_HOC_DEFAULTS = {
  ...defaultsOf((coreSchema.properties as Record<string, JsonSchema>).upstreams.additionalProperties as JsonSchema),
  changeOrigin: true,
} as Omit<UpstreamConfig, 'targets'>;

type RuntimeDeps = Omit<ScopeDeps, 'configDir' | 'work'> & {
  /** Aborts when the gateway shuts down: the plugins' in-flight work of every generation is told to end. */
  readonly shutdown: AbortSignal;
};

/** Everything one route needs per request, built once. */
export interface RouteRuntime {
  readonly route: CompiledRoute;
  readonly pipeline: (ctx: RequestContext, last: () => Promise<void>) => Promise<void>;
  readonly hooks: ProxyHooks;
}

/**
 * One generation of configuration: routes and started plugins (the upstream pools are the
 * gateway's registry, which a generation's config is applied to when it takes over).
 * A reload builds a new Runtime; the old one serves its in-flight requests and is
 * disposed when the last of them ends.
 */
export class Runtime {
  inflight = 0;
  /** Core's ctx.forward for requests of this generation (set by the gateway). */
  forward: ContextInit['forward'] = () => Promise.reject(new GatehouseError('GH_ERR_INTERNAL', 'ctx.forward is not wired'));
  private retired = false;
  private disposed?: Promise<void>;

  /** The plugins' background tasks (started by the gateway once this generation serves). */
  readonly tasks: TaskRunner;
  /** The plugins' admin endpoints, under /plugins/<instance>/. */
  readonly adminRoutes: readonly AdminRoute[];

  private constructor(
    readonly loaded: LoadedConfig,
    readonly router: Router,
    private readonly registry: UpstreamRegistry,
    readonly routes: readonly RouteRuntime[],
    private readonly plugins: readonly LivePlugin[],
    private readonly guard: PluginGuard,
    deps: Omit<RuntimeDeps, 'shutdown'>,
    /** `server.tuning.readBuffer` as it applies on this Node (read by the registry). */
    readonly readBuffer: boolean,
    locks: LockStore | undefined,
    /** The plugins' in-flight work (`scope.inflight`): a reload lets it end before the plugins stop. */
    private readonly work: InflightWork,
  ) {
    this.tasks = new TaskRunner(
      plugins.flatMap((p) => p.services.tasks),
      deps.logger,
      deps.metrics.tasks,
      locks,
    );
    this.adminRoutes = plugins.flatMap((p) => p.services.admin.map((r) => guard.admin(p, r)));
  }

  /**
   * Instantiate and start every plugin; on any failure nothing is left running. `beforeStart`
   * runs between the two (a reload stops the old generation's tasks there, so that the new
   * plugins start with nothing of the old still working).
   */
  static async create(loaded: LoadedConfig, deps: RuntimeDeps, beforeStart?: () => Promise<unknown>): Promise<Runtime> {
    const { shutdown, ...services } = deps;
    const work = new InflightWork(shutdown);
    const scopeDeps: ScopeDeps = { ...services, configDir: loaded.dir, work };
    const guard = new PluginGuard(deps.logger, deps.metrics.pluginErrors);
    const timeoutMs = loaded.config.server.pluginTimeout;
    const created: LivePlugin[] = [];
    const seen = new Map<string, number>();
    const make = async (list: LoadedConfig['globalPlugins']): Promise<LivePlugin[]> => {
      const out: LivePlugin[] = [];
      for (const p of list) {
        const n = (seen.get(p.definition.name) ?? 0) + 1;
        seen.set(p.definition.name, n);
        const live = await instantiate(p, p.id ?? `${p.definition.name}#${n}`, scopeDeps);
        created.push(live);
        out.push(live);
      }
      return out;
    };
    try {
      const globals = await make(loaded.globalPlugins);
      const perRoute: LivePlugin[][] = [];
      for (const list of loaded.routePlugins) perRoute.push(await make(list));
      // Singleton tasks hold a lock in the store; the store opens here, when anything took it,
      // so that one which cannot be opened refuses the start before any plugin starts.
      const locks = created.some((p) => p.services.tasks.some((t) => t.options.singleton)) ? deps.store.forCore().locks : undefined;
      await deps.store.openIfNeeded();
      await beforeStart?.();
      await startAll(created, guard, timeoutMs);
      const router = new Router(loaded.config.routes);
      const routes = router.routes.map((route, i) => buildRoute(route, [...globals, ...perRoute[i]], guard));
      const readBuffer = useReadBuffer(loaded.config.server.tuning.readBuffer, deps.logger);
      return new Runtime(loaded, router, deps.upstreams, routes, created, guard, services, readBuffer, locks, work);
    } catch (err) {
      // A generation that never served: what its plugins started (in start) is told to end at once.
      work.abort();
      await work.settled(timeoutMs);
      await stopAll(created, guard, timeoutMs);
      for (const p of created) undo(p);
      throw err;
    }
  }

  /** Each plugin instance of this generation: name, instance id, where declared, started, readiness. */
  pluginStates(): { plugin: string; instance: string; at: string; started: boolean; ready: true | string[] }[] {
    const reasons = this.notReady();
    return this.plugins.map((p) => {
      const own = reasons.filter((r) => r.plugin === p.id).map((r) => r.reason);
      return { plugin: p.name, instance: p.id, at: p.at, started: p.started, ready: own.length === 0 ? true : own };
    });
  }

  /** Why this generation is not ready, per plugin instance that says so (empty: ready). */
  notReady(): { plugin: string; reason: string }[] {
    const out: { plugin: string; reason: string }[] = [];
    for (const p of this.plugins) {
      for (const check of p.services.ready) {
        let verdict: true | string;
        try {
          verdict = check();
        } catch (err) {
          verdict = `readiness check failed: ${(err as Error)?.message ?? String(err)}`;
        }
        if (verdict !== true) out.push({ plugin: p.id, reason: String(verdict) });
      }
    }
    return out;
  }

  /** The declared upstreams' pools (the gateway's registry, shared by every generation). */
  get pools(): ReadonlyMap<string, UpstreamPool> {
    return this.registry.pools;
  }

  /** A pool for a target URL chosen by a plugin (`ctx.target`), kept while recently used. */
  adHocPool(target: string): UpstreamPool {
    return this.registry.adHocPool(target);
  }

  /** The pool for a plugin-chosen target URL (wins) or a declared upstream name, if any. */
  poolFor(target: string | undefined, upstream: string | undefined): UpstreamPool | undefined {
    return this.registry.poolFor(target, upstream);
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

  /**
   * Stop tasks and wait for in-flight work (without a bound until the gateway shuts down, as for
   * requests), then stop plugins, and undo their watches and selectors (idempotent).
   */
  dispose(): Promise<void> {
    this.disposed ??= (async () => {
      const timeoutMs = this.loaded.config.server.pluginTimeout;
      const deadline = Date.now() + timeoutMs;
      await this.tasks.stop(timeoutMs);
      // After the tasks: work their last round started is counted. On shutdown both share the time.
      const settled = await this.work.settled(this.work.aborted ? Math.max(0, deadline - Date.now()) : timeoutMs);
      if (!settled)
        this.guard.log.error(
          { inflight: this.work.size, timeoutMs },
          'plugin in-flight work did not settle within server.pluginTimeout after the shutdown; stopping the plugins anyway',
        );
      await stopAll(this.plugins, this.guard, this.loaded.config.server.pluginTimeout);
      for (const p of this.plugins) undo(p);
    })();
    return this.disposed;
  }
}

/** Undo what a plugin installed on the gateway's upstreams (watches, selectors). */
function undo(p: LivePlugin): void {
  for (const fn of p.services.cleanup.splice(0)) fn();
}

/** The route's pipeline and proxy hooks, every plugin call guarded (built once, not per request). */
function buildRoute(route: CompiledRoute, plugins: readonly LivePlugin[], guard: PluginGuard): RouteRuntime {
  const name = route.name;
  const stack = plugins.map((p) => guard.handle(p, name)).filter((m): m is Middleware => m !== undefined);
  const onProxyRequest = plugins.filter((p) => p.instance.onProxyRequest).map((p) => guard.proxyRequest(p, name));
  const onProxyResponse = plugins.filter((p) => p.instance.onProxyResponse).map((p) => guard.proxyResponse(p, name));
  const interceptResponse = plugins.filter((p) => p.instance.interceptResponse).map((p) => guard.intercept(p, name));
  return { route, pipeline: compose(stack), hooks: { onProxyRequest, onProxyResponse, interceptResponse } };
}
