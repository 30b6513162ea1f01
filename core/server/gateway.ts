import 'reflect-metadata';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Logger } from 'pino';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { loadConfig, validateConfig, type LoadedConfig } from '../config/load';
import { GatehouseError } from '../errors';
import { StoreHost } from '../store/host';
import { RegistryHost } from '../registry/host';
import type { ServiceRegistry } from '../registry/registry';
import { storeSpec } from '../store/spec';
import { normalizeIp, TrustedProxies } from '../net/ip';
import { createLogger } from '../observe/logger';
import { GatewayMetrics } from '../observe/metrics';
import { RequestContext, WORKER_HEADER } from '../pipeline/request-context';
import type { PluginDefinition } from '../plugin/contract';
import { bounded } from '../plugin/guard';
import type { Forwarder } from '../proxy/forwarder';
import { setGcEvery } from '../tuning/young-gc';
import { ClusterRole, type ClusterOptions } from './cluster-role';
import { openListeners } from './open-listeners';
import { drainListeners, queuedResponse } from './listeners';
import { AD_HOC_DEFAULTS, Runtime, type RouteRuntime } from './runtime';
import { UpstreamRegistry } from '../upstream/registry';
import { registerUpstreamMetrics } from '../observe/upstream-metrics';
import { useReadBuffer } from '../tuning/read-buffer';
import { contextFor, type EntryDeps } from './entry';
import { createForwarder, forward, forwardInternal } from './dispatch';
import { recordRequest } from '../observe/access';
import { AccessLog } from '../observe/access-log';

/**
 * DI tokens for the services core shares with plugins through their child containers: narrow
 * ones, never the Gateway itself (a plugin that could reach it could reload or close it).
 */
export const TOKENS = { logger: Symbol('gatehouse.logger'), metrics: Symbol('gatehouse.metrics') } as const;

/** Options of {@link createGateway}. */
export interface GatewayOptions {
  /** Config file path, or an already parsed config object. Default: discovered in `cwd`. */
  config?: string | Record<string, unknown>;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Logger to use; default: pino on stdout at the config's level. */
  logger?: Logger;
  /**
   * Plugin definitions the config may name (`- <name>: {…}`), besides paths and packages. Core
   * itself knows none: the package's entry point (app/index.ts) passes the built-ins and adds
   * these, so embedders and tests can declare typed plugin objects.
   */
  plugins?: readonly PluginDefinition[];
  /** @internal Set by the cluster: see {@link ClusterOptions}. */
  cluster?: ClusterOptions;
}

/** A running (or ready to run) gateway. */
export class Gateway {
  readonly metrics = new GatewayMetrics({
    openSockets: () => [...this.upstreams.pools].map(([name, pool]) => [name, pool.openSockets()]),
  });
  readonly logger: Logger;
  /** The live upstreams: owned here, kept across reloads; each generation's config is applied as it takes over. */
  readonly upstreams: UpstreamRegistry;
  runtime!: Runtime;
  ready = false;
  /** Bound addresses once listening. */
  readonly addresses: { http?: AddressInfo; https?: AddressInfo; admin?: AddressInfo } = {};
  private trust!: TrustedProxies;
  private entryDeps!: EntryDeps;
  private readonly container: DependencyContainer = rootContainer.createChildContainer();
  private readonly servers: { http?: http.Server; https?: https.Server; admin?: http.Server } = {};
  private readonly upgraded = new Set<Duplex>();
  private readonly forwarder: Forwarder;
  private closing?: Promise<void>;
  /** The state store: one per gateway, shared by every generation (a changed `store:` needs a restart). */
  readonly store: StoreHost;
  private accessLog?: AccessLog;
  /** The service registry (`registry:`), kept in the store; settings apply after a restart. */
  private readonly registryHost?: RegistryHost;
  /** `Gatehouse-Worker` value (a cluster worker with `server.workerHeader`), else undefined. */
  private workerHeader?: string;
  /** Aborted once a close has drained the listeners: the plugins' in-flight work of every generation ends. */
  private readonly shutdown = new AbortController();
  /** Generations replaced by a reload and not disposed yet (their requests or in-flight work go on). */
  private readonly retiring = new Set<Promise<void>>();
  /** Its part in a cluster (core/server/cluster-role.ts), or none. */
  private readonly role: ClusterRole;

  constructor(
    private loaded: LoadedConfig,
    private readonly options: GatewayOptions,
  ) {
    this.role = new ClusterRole(options.cluster);
    this.logger = options.logger ?? createLogger(loaded.config.log.level, undefined, this.role.logBindings());
    this.upstreams = new UpstreamRegistry(this.logger);
    registerUpstreamMetrics(this.metrics.registry, this.upstreams);
    this.container.register(TOKENS.logger, { useValue: this.logger });
    this.container.register(TOKENS.metrics, { useValue: this.metrics });
    this.store = new StoreHost(storeSpec(loaded.config.store, loaded.dir), this.logger, this.metrics.registry);
    const reg = loaded.config.registry;
    if (reg)
      this.registryHost = new RegistryHost(
        this.store.forCore(),
        reg,
        this.logger.child({ component: 'registry' }),
        this.metrics.registry,
        this.upstreams,
      );
    this.forwarder = createForwarder(this.metrics);
  }

  /** Build the first runtime (plugins created and started). */
  async init(): Promise<this> {
    this.applyServerSettings(this.loaded);
    try {
      // Before the plugins start, so that they find the declared upstreams.
      const readBuffer = useReadBuffer(this.loaded.config.server.tuning.readBuffer, this.logger);
      this.upstreams.apply(this.role.ownUpstreams(this.loaded), readBuffer, AD_HOC_DEFAULTS);
      // The registry next: registry-backed upstreams of the first generation read it.
      if (this.registryHost) {
        await this.store.openIfNeeded();
        await this.registryHost.start(this.loaded.config.upstreams);
      }
      this.runtime = this.adopt(await Runtime.create(this.loaded, this.scopeDeps()));
    } catch (err) {
      // Nothing may be left running: health checks, the registry, the store's connection or worker.
      await this.closeServices();
      throw err;
    }
    this.startTasks(this.runtime);
    return this;
  }

  private startTasks(rt: Runtime): void {
    if (this.role.runsTasks) rt.tasks.start();
  }

  /** What the gateway owns beside listeners and plugins, closed after the plugins stopped (their stops may still write). */
  private async closeServices(): Promise<void> {
    this.registryHost?.stop();
    this.upstreams.close();
    await this.store.close(this.loaded.config.server.pluginTimeout);
    this.accessLog?.close();
    this.accessLog = undefined;
  }

  /** The `server` settings that take effect without a restart (at start and on each reload). */
  private applyServerSettings(loaded: LoadedConfig): void {
    this.accessLog = AccessLog.update(this.accessLog, loaded.config.log.accessLog, this.logger, loaded.dir);
    this.trust = new TrustedProxies(loaded.config.server.trustProxy);
    setGcEvery(loaded.config.server.tuning.gcEveryMiB);
    // What contextFor needs, made once per config rather than per request.
    this.entryDeps = { server: loaded.config.server, trust: this.trust, logger: this.logger };
    this.workerHeader = this.role.workerHeader(loaded);
  }

  /** Give a new runtime core's ctx.forward, bound to it once rather than per request. */
  private adopt(rt: Runtime): Runtime {
    rt.forward = (ctx, o) => forwardInternal(this.forwarder, ctx, o, rt);
    return rt;
  }

  private scopeDeps() {
    return {
      store: this.store,
      logger: this.logger,
      metrics: this.metrics,
      container: this.container,
      upstreams: this.upstreams,
      clientIp: (req: http.IncomingMessage) => this.trust.clientIp(normalizeIp(req.socket.remoteAddress), req.headers['x-forwarded-for']),
      shutdown: this.shutdown.signal,
    };
  }

  /**
   * Open the listeners declared in the config. A certificate that cannot be used (GH_ERR_TLS)
   * or a bind that fails (GH_ERR_LISTEN, naming the listener and address) closes the gateway
   * (listeners already open, plugins) before the error is thrown: nothing is left half running.
   */
  async listen(): Promise<this> {
    try {
      await openListeners({
        gw: this,
        loaded: this.loaded,
        role: this.role,
        logger: this.logger,
        servers: this.servers,
        addresses: this.addresses,
        onRequest: this.handleRequest.bind(this),
        onUpgrade: this.handleUpgrade.bind(this),
      });
    } catch (err) {
      await this.close(0).catch(() => undefined);
      throw err;
    }
    this.ready = true;
    this.logger.info({ addresses: this.addresses, config: this.loaded.file }, this.role.message('listening'));
    return this;
  }

  /** Entry point of every HTTP request. */
  private handleRequest(req: http.IncomingMessage, res: http.ServerResponse, secure: boolean): void {
    const rt = this.runtime;
    rt.enter();
    this.metrics.inflightNow++;
    if (this.workerHeader !== undefined) res.setHeader(WORKER_HEADER, this.workerHeader);
    const start = process.hrtime.bigint();
    // Only the access log reports bytes; reading the socket counter is not free.
    const bytesBefore = this.accessLog ? req.socket.bytesWritten : 0;
    let ctx: RequestContext | undefined;
    let settled = false;
    // The one 'close' listener of a request (each listener costs per request): it releases the
    // upstream if the client left early, frees the target's slot, settles the forwarding promise
    // and counts the request.
    const settle = (lostInQueue?: true): void => {
      if (settled) return;
      settled = true;
      if (ctx) {
        this.forwarder.release(ctx);
        if (ctx.pickedPool !== undefined) ctx.pickedPool.release(ctx);
        ctx.settle?.();
      }
      rt.leave();
      this.metrics.inflightNow--;
      // 499 (nginx's convention): the client went away before an answer was sent. A queued
      // response may have a head written into its buffer, but nothing of it was sent.
      this.record(
        req,
        res.headersSent && !lostInQueue ? res.statusCode : 499,
        ctx,
        start,
        this.accessLog ? req.socket.bytesWritten - bytesBefore : 0,
      );
    };
    res.on('close', settle);
    // A pipelined request behind another has a queued response with no socket yet; Node never
    // emits 'close' on it if the connection dies first (req's 'close' comes once its body is read,
    // not when the client leaves), so watch the socket too. Rare: only pipelined requests pay.
    if (res.socket === null) queuedResponse(req.socket, res, settle);
    const made = contextFor(req, res, req.socket, secure, rt, this.entryDeps);
    ctx = made.ctx;
    if (made.route) this.run(ctx, made.route, rt);
  }

  private handleUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, secure: boolean): void {
    socket.on('error', () => socket.destroy());
    const rt = this.runtime;
    rt.enter();
    this.upgraded.add(socket);
    const start = process.hrtime.bigint();
    // The socket may have carried keep-alive requests before this one: count from here.
    const bytesBefore = (socket as Socket).bytesWritten ?? 0;
    const { ctx, route } = contextFor(req, undefined, socket, secure, rt, this.entryDeps);
    socket.once('close', () => {
      if (ctx.pickedPool !== undefined) ctx.pickedPool.release(ctx);
      rt.leave();
      this.upgraded.delete(socket);
      // One access line per upgrade, when the socket closes: 101 for a session, or the refusal.
      this.record(req, ctx.upgradeStatus || 499, ctx, start, ((socket as Socket).bytesWritten ?? 0) - bytesBefore);
    });
    ctx.head = head;
    if (route) this.run(ctx, route, rt);
  }

  private run(ctx: RequestContext, route: RouteRuntime, rt: Runtime): void {
    route.pipeline(ctx, () => forward(this.forwarder, ctx, rt)).catch((err: unknown) => ctx.fail(err));
  }

  private record(req: http.IncomingMessage, status: number, ctx: RequestContext | undefined, start: bigint, bytes: number): void {
    recordRequest(this.metrics, this.accessLog, req, status, ctx, start, bytes);
  }

  /** The service registry, when the config has `registry:`. */
  get registry(): ServiceRegistry | undefined {
    return this.registryHost?.registry;
  }

  /** Reopen the access log's file (SIGUSR1, after logrotate moved it). */
  reopenLogs(): void {
    this.accessLog?.reopen();
  }

  /**
   * Load the config again. Valid: new requests use the new routes and plugins,
   * in-flight ones finish on the old. Invalid: the old config stays and this throws.
   */
  reload(): Promise<void> {
    // One reload at a time: each stops the tasks of, and retires, the generation it replaces,
    // so two at once would leave one generation running for good.
    const run = this.reloading.then(() => this.reloadNow());
    this.reloading = run.catch(() => undefined);
    return run;
  }

  private reloading: Promise<void> = Promise.resolve();

  private async reloadNow(): Promise<void> {
    try {
      if (this.closing) throw new GatehouseError('GH_ERR_RELOAD_FAILED', 'The gateway is shutting down');
      const next = await configOf(this.options, this.loaded.file);
      this.store.assertSame(storeSpec(next.config.store, next.dir));
      const old = this.runtime;
      // The old generation's tasks stop before the new plugins start (never two delivery loops
      // at once), and run again if the new generation cannot start.
      let rt: Runtime;
      try {
        rt = this.adopt(await Runtime.create(next, this.scopeDeps(), () => old.tasks.stop(this.loaded.config.server.pluginTimeout)));
      } catch (err) {
        this.startTasks(old);
        throw err;
      }
      this.loaded = next;
      this.applyServerSettings(next);
      this.upstreams.apply(this.role.ownUpstreams(next), rt.readBuffer, AD_HOC_DEFAULTS);
      this.registryHost?.follow(next.config.upstreams, this.logger);
      this.runtime = rt;
      this.startTasks(rt);
      const retired = old.retire().finally(() => this.retiring.delete(retired));
      this.retiring.add(retired);
      this.metrics.reloads.inc({ result: 'ok' });
      this.logger.info({ config: next.file }, 'configuration reloaded (listener and admin settings apply after a restart)');
    } catch (err) {
      this.metrics.reloads.inc({ result: 'failed' });
      this.logger.error({ err }, 'reload failed; keeping the previous configuration');
      throw err instanceof GatehouseError ? err : new GatehouseError('GH_ERR_RELOAD_FAILED', (err as Error).message, { cause: err });
    }
  }

  /** Stop accepting, let in-flight requests finish up to `graceMs`, then stop plugins. */
  close(graceMs = this.loaded.config.server.shutdownGrace): Promise<void> {
    this.closing ??= (async () => {
      this.ready = false;
      await drainListeners(
        [this.servers.http, this.servers.https].filter((s): s is http.Server => !!s),
        this.upgraded,
        graceMs,
      );
      // A reload under way finishes (or fails) first, so that the runtime disposed is the last one.
      await this.reloading;
      // In-flight work (scope.inflight) had the grace too; now it ends, in old generations as well.
      this.shutdown.abort();
      const { pluginTimeout } = this.loaded.config.server;
      await Promise.all([this.runtime.dispose(), bounded(() => Promise.all(this.retiring), pluginTimeout)]);
      await this.closeServices();
      this.forwarder.close();
      this.metrics.samples.stop();
      const admin = this.servers.admin;
      if (admin) {
        // Last: it answered /readyz (not ready) and /metrics while the listeners drained. What
        // is still open on it now is cut, or close() would wait for it (without end, as Node
        // stops checking a closing server's timeouts).
        const adminClosed = new Promise<void>((r) => admin.close(() => r()));
        admin.closeAllConnections();
        await adminClosed;
      }
      this.logger.info(this.role.message('stopped'));
    })();
    return this.closing;
  }
}

/** Load and validate a config, create and start its plugins. Call `listen()` to serve. */
export async function createGateway(options: GatewayOptions = {}): Promise<Gateway> {
  return gatewayFrom(await configOf(options, options.config as string | undefined), options);
}

/** {@link createGateway} for a config loaded already (the CLI reads it first, to know `server.workers`). */
export function gatewayFrom(loaded: LoadedConfig, options: GatewayOptions): Promise<Gateway> {
  return new Gateway(loaded, options).init();
}

/** The config of `options`: the object given (validated), or the file (found, read and validated), at start and on each reload. */
function configOf(options: GatewayOptions, file: string | undefined): Promise<LoadedConfig> {
  const ctx = { env: options.env, plugins: options.plugins };
  if (typeof options.config === 'object')
    return Promise.resolve().then(() => validateConfig(options.config as Record<string, unknown>, ctx));
  return loadConfig(file, { ...ctx, cwd: options.cwd });
}
