import {
  Counter,
  Gauge,
  Histogram,
  type CounterConfiguration,
  type GaugeConfiguration,
  type HistogramConfiguration,
  type Registry,
} from 'prom-client';

type Named<T> = Omit<T, 'registers'>;

/** Metric factory handed to a plugin; names get the plugin's prefix, series its instance label. */
export interface PluginMetrics {
  /** `gatehouse_<plugin>_` */
  readonly prefix: string;
  counter<L extends string>(cfg: Named<CounterConfiguration<L>>): Counter<L>;
  gauge<L extends string>(cfg: Named<GaugeConfiguration<L>>): Gauge<L>;
  histogram<L extends string>(cfg: Named<HistogramConfiguration<L>>): Histogram<L>;
}

type Labels = Record<string, string | number>;
type AnyMetric = Record<string, (...args: unknown[]) => unknown>;

/** Methods whose first argument may be a label object, else the value (`inc(2)`, `inc({ a }, 2)`). */
const LABELS_OR_VALUE = new Set(['inc', 'dec', 'set', 'observe']);
/** Methods that take a label object (or nothing). */
const LABELS_ONLY = new Set(['startTimer', 'setToCurrentTime', 'zero', 'remove']);

/**
 * A view of `metric` that adds `instance` to every series it touches, so each plugin instance
 * writes its own series of the plugin's one metric. Positional `labels('a', 'b')` values get the
 * instance appended (it is the last label name).
 */
function forInstance<M extends object>(metric: M, instance: string): M {
  const add = (labels: unknown): Labels => ({ ...(labels as Labels | undefined), instance });
  return new Proxy(metric, {
    get(target, prop, receiver) {
      const m = target as unknown as AnyMetric;
      if (typeof prop === 'string' && LABELS_OR_VALUE.has(prop)) {
        return (a?: unknown, b?: unknown) =>
          typeof a === 'object' && a !== null ? m[prop](add(a), b) : a === undefined ? m[prop](add(undefined)) : m[prop](add(undefined), a);
      }
      if (typeof prop === 'string' && LABELS_ONLY.has(prop)) return (labels?: unknown) => m[prop](add(labels));
      if (prop === 'labels')
        return (...args: unknown[]) =>
          typeof args[0] === 'object' && args[0] !== null ? m.labels(add(args[0])) : m.labels(...args, instance);
      const value = Reflect.get(target, prop, receiver) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}

/**
 * A prefixed factory for one plugin instance. Instances of one plugin share each metric (the
 * same name asked for twice is the same metric) and tell their series apart by `instance`.
 */
export function pluginMetrics(registry: Registry, pluginName: string, instance: string): PluginMetrics {
  const prefix = `gatehouse_${pluginName.replace(/-/g, '_')}_`;
  const reuse = <M extends object>(name: string, make: () => M): M =>
    forInstance((registry.getSingleMetric(prefix + name) as M | undefined) ?? make(), instance);
  const labelNames = (cfg: { labelNames?: readonly string[] }) => [...(cfg.labelNames ?? []), 'instance'] as never;
  return {
    prefix,
    counter: (cfg) =>
      reuse(cfg.name, () => new Counter({ ...cfg, labelNames: labelNames(cfg), name: prefix + cfg.name, registers: [registry] })),
    gauge: (cfg) =>
      reuse(cfg.name, () => new Gauge({ ...cfg, labelNames: labelNames(cfg), name: prefix + cfg.name, registers: [registry] })),
    histogram: (cfg) =>
      reuse(cfg.name, () => new Histogram({ ...cfg, labelNames: labelNames(cfg), name: prefix + cfg.name, registers: [registry] })),
  };
}
