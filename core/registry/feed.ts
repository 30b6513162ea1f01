import type { Logger } from 'pino';
import type { RegistryEvent, ServiceRegistry } from './registry';
import { targetsOf, type ServiceView } from './info';

/** Where the targets go: the gateway's upstreams. */
export interface TargetSink {
  setTargets(upstream: string, targets: readonly { url: string; weight: number }[]): void;
}

/**
 * Upstreams whose targets follow a registry entry (`upstreams: { x: { registry: name } }`): set
 * from the entry at start, again at each change of it (this process's or another's, through the
 * store's watch) and when its lease lapses; no polling. An absent or critical entry leaves the
 * upstream without targets (its requests get 503 GH_ERR_UPSTREAM_NO_TARGETS).
 */
export class RegistryFeed {
  /** Service name → the upstreams following it. */
  private bindings = new Map<string, string[]>();
  private readonly lapse = new Map<string, NodeJS.Timeout>();
  private unsubscribe?: () => void;
  private unresync?: () => void;

  constructor(
    private readonly registry: ServiceRegistry,
    private readonly sink: TargetSink,
    private readonly log: Logger,
  ) {}

  /** Follow these upstreams (upstream → service), replacing what was followed before (a reload). */
  async follow(upstreams: ReadonlyMap<string, string>): Promise<void> {
    const bindings = new Map<string, string[]>();
    for (const [upstream, service] of upstreams) bindings.set(service, [...(bindings.get(service) ?? []), upstream]);
    this.bindings = bindings;
    this.unsubscribe ??= this.registry.subscribe((e) => this.changed(e));
    this.unresync ??= this.registry.onResync(() => void this.reread());
    for (const [service] of bindings) this.apply(service, await this.registry.get(service));
  }

  /** Read every followed entry again (after the store's watch missed changes). */
  private async reread(): Promise<void> {
    for (const [service] of this.bindings) {
      try {
        this.apply(service, await this.registry.get(service));
      } catch (err) {
        this.log.warn({ err, service }, 'registry: a followed entry could not be read again; its upstreams keep their targets');
      }
    }
  }

  private changed(e: RegistryEvent): void {
    if (this.bindings.has(e.name)) this.apply(e.name, e.type === 'put' ? e.service : undefined);
  }

  /** Set every upstream following `service` from its entry as it is now. */
  private apply(service: string, entry: ServiceView | undefined): void {
    clearTimeout(this.lapse.get(service));
    this.lapse.delete(service);
    const upstreams = this.bindings.get(service);
    if (!upstreams) return;
    const live = entry && entry.status === 'passing';
    const targets = live ? targetsOf(entry.info) : [];
    for (const upstream of upstreams) {
      try {
        this.sink.setTargets(upstream, targets);
      } catch (err) {
        this.log.error({ err, upstream, service }, 'registry: the entry has targets the upstream refuses; left as it was');
      }
    }
    this.log.debug(
      { service, upstreams, targets: targets.length, status: entry?.status ?? 'absent' },
      'registry: upstream targets follow the entry',
    );
    // A lease that lapses changes nothing in the store: look again when it does.
    if (live && entry.leaseLeftMs !== undefined) {
      const timer = setTimeout(
        () =>
          void this.registry.get(service).then(
            (e) => this.apply(service, e),
            () => this.apply(service, undefined),
          ),
        entry.leaseLeftMs + 1,
      );
      timer.unref();
      this.lapse.set(service, timer);
    }
  }

  stop(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.unresync?.();
    this.unresync = undefined;
    for (const t of this.lapse.values()) clearTimeout(t);
    this.lapse.clear();
  }
}
