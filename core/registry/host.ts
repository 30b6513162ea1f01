import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { UpstreamConfig } from '../config/types';
import type { StateStore } from '../store/types';
import { RegistryFeed, type TargetSink } from './feed';
import { registryMetrics } from './metrics';
import { ServiceRegistry, type RegistryOptions } from './registry';

/** Upstream → the registry entry it follows, for the upstreams of a config that say `registry:`. */
export function registryBindings(upstreams: Readonly<Record<string, UpstreamConfig>>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, u] of Object.entries(upstreams)) if (u.registry !== undefined) out.set(name, u.registry);
  return out;
}

/** The gateway's registry with its metrics and the upstreams that follow it; one per gateway. */
export class RegistryHost {
  readonly registry: ServiceRegistry;
  private readonly feed: RegistryFeed;

  constructor(store: StateStore, options: RegistryOptions, logger: Logger, prom: Registry, sink: TargetSink) {
    this.registry = new ServiceRegistry(store, options, logger);
    registryMetrics(this.registry, prom);
    this.feed = new RegistryFeed(this.registry, sink, logger);
  }

  /** Load the index, follow changes, and set the first generation's registry-backed upstreams. */
  async start(upstreams: Readonly<Record<string, UpstreamConfig>>): Promise<void> {
    await this.registry.start();
    await this.feed.follow(registryBindings(upstreams));
  }

  /** A new generation's upstreams (at the reload's swap). */
  follow(upstreams: Readonly<Record<string, UpstreamConfig>>, log: Logger): void {
    this.feed
      .follow(registryBindings(upstreams))
      .catch((err: unknown) => log.error({ err }, 'registry: upstream targets could not be read'));
  }

  stop(): void {
    this.feed.stop();
    this.registry.stop();
  }
}
