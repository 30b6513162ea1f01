import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics, type CounterConfiguration, type GaugeConfiguration, type HistogramConfiguration } from 'prom-client';

type Named<T> = Omit<T, 'registers'>;

/** Metric factory handed to a plugin; names get the plugin's prefix. */
export interface PluginMetrics {
  /** `gatehouse_<plugin>_` */
  readonly prefix: string;
  counter<L extends string>(cfg: Named<CounterConfiguration<L>>): Counter<L>;
  gauge<L extends string>(cfg: Named<GaugeConfiguration<L>>): Gauge<L>;
  histogram<L extends string>(cfg: Named<HistogramConfiguration<L>>): Histogram<L>;
}

/** Core metrics of one gateway, in a registry of its own (several gateways can share a process). */
export class GatewayMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly duration: Histogram<'route' | 'upstream'>;
  readonly upstreamErrors: Counter<'upstream' | 'kind'>;
  readonly openSockets: Gauge<'upstream'>;
  readonly inflight: Gauge;
  readonly reloads: Counter<'result'>;

  /**
   * @param opts.openSockets read at scrape time: open sockets per upstream name.
   */
  constructor(opts: { defaultMetrics?: boolean; openSockets?: () => Iterable<[string, number]> } = {}) {
    const registers = [this.registry];
    if (opts.defaultMetrics !== false) collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' });
    this.requests = new Counter({ name: 'gatehouse_requests_total', help: 'Requests by route, method and status', labelNames: ['route', 'method', 'status'], registers });
    this.duration = new Histogram({
      name: 'gatehouse_request_duration_seconds', help: 'Time from request to the end of the response', labelNames: ['route', 'upstream'], registers,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    });
    this.upstreamErrors = new Counter({ name: 'gatehouse_upstream_errors_total', help: 'Upstream failures by kind (connect, timeout, reset)', labelNames: ['upstream', 'kind'], registers });
    const read = opts.openSockets;
    this.openSockets = new Gauge({
      name: 'gatehouse_upstream_open_sockets', help: 'Sockets currently open to each upstream (in use and idle)', labelNames: ['upstream'], registers,
      collect() {
        if (!read) return;
        this.reset();
        for (const [upstream, n] of read()) this.set({ upstream }, n);
      },
    });
    this.inflight = new Gauge({ name: 'gatehouse_inflight_requests', help: 'Requests being handled now', registers });
    this.reloads = new Counter({ name: 'gatehouse_config_reloads_total', help: 'Config reloads by result', labelNames: ['result'], registers });
  }

  // Label children cached by their values: prom-client hashes and validates a label
  // object on every call, which showed in the per-request profile (bench/README.md).
  private readonly requestChildren = new Map<string, { inc(): void }>();
  private readonly durationChildren = new Map<string, { observe(v: number): void }>();

  /** Count one finished request and observe its duration. */
  countRequest(route: string, method: string, status: number, upstream: string, seconds: number): void {
    const rk = `${route}\0${method}\0${status}`;
    let counter = this.requestChildren.get(rk);
    if (!counter) this.requestChildren.set(rk, (counter = this.requests.labels(route, method, String(status))));
    counter.inc();
    const dk = `${route}\0${upstream}`;
    let hist = this.durationChildren.get(dk);
    if (!hist) this.durationChildren.set(dk, (hist = this.duration.labels(route, upstream)));
    hist.observe(seconds);
  }

  /** A prefixed factory for one plugin; the same plugin asking twice gets the same metric. */
  forPlugin(pluginName: string): PluginMetrics {
    const prefix = `gatehouse_${pluginName.replace(/-/g, '_')}_`;
    const registry = this.registry;
    const reuse = <M>(name: string, make: () => M): M => (registry.getSingleMetric(prefix + name) as M | undefined) ?? make();
    return {
      prefix,
      counter: (cfg) => reuse(cfg.name, () => new Counter({ ...cfg, name: prefix + cfg.name, registers: [registry] })),
      gauge: (cfg) => reuse(cfg.name, () => new Gauge({ ...cfg, name: prefix + cfg.name, registers: [registry] })),
      histogram: (cfg) => reuse(cfg.name, () => new Histogram({ ...cfg, name: prefix + cfg.name, registers: [registry] })),
    };
  }
}
