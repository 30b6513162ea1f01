import t from 'tap';
import { Registry } from 'prom-client';
import { pluginMetrics } from '../../core/observe/plugin-metrics';

t.test('plugin metrics: one metric per name, one series per instance', async (t) => {
  const registry = new Registry();
  const a = pluginMetrics(registry, 'my-plugin', 'my-plugin#1');
  const b = pluginMetrics(registry, 'my-plugin', 'edge');
  const cases: { desc: string; act: () => void; want: RegExp }[] = [
    {
      desc: 'counter inc() without labels',
      act: () => a.counter({ name: 'hits_total', help: 'h' }).inc(),
      want: /^gatehouse_my_plugin_hits_total\{instance="my-plugin#1"\} 1$/m,
    },
    {
      desc: 'counter inc(value) on another instance',
      act: () => b.counter({ name: 'hits_total', help: 'h' }).inc(3),
      want: /^gatehouse_my_plugin_hits_total\{instance="edge"\} 3$/m,
    },
    {
      desc: 'counter inc(labels, value)',
      act: () => a.counter({ name: 'by_total', help: 'h', labelNames: ['kind'] }).inc({ kind: 'x' }, 2),
      want: /^gatehouse_my_plugin_by_total\{kind="x",instance="my-plugin#1"\} 2$/m,
    },
    {
      desc: 'counter labels() with positional values',
      act: () =>
        a
          .counter({ name: 'pos_total', help: 'h', labelNames: ['kind'] })
          .labels('y')
          .inc(),
      want: /^gatehouse_my_plugin_pos_total\{kind="y",instance="my-plugin#1"\} 1$/m,
    },
    {
      desc: 'gauge set(value)',
      act: () => b.gauge({ name: 'depth', help: 'h' }).set(7),
      want: /^gatehouse_my_plugin_depth\{instance="edge"\} 7$/m,
    },
    {
      desc: 'gauge dec(labels)',
      act: () => {
        const g = a.gauge({ name: 'level', help: 'h', labelNames: ['q'] });
        g.inc({ q: 'a' }, 5);
        g.dec({ q: 'a' });
      },
      want: /^gatehouse_my_plugin_level\{q="a",instance="my-plugin#1"\} 4$/m,
    },
    {
      desc: 'histogram observe(value)',
      act: () => a.histogram({ name: 'seconds', help: 'h', buckets: [1] }).observe(0.5),
      want: /^gatehouse_my_plugin_seconds_count\{instance="my-plugin#1"\} 1$/m,
    },
    {
      desc: 'histogram startTimer()',
      act: () => b.histogram({ name: 'seconds', help: 'h', buckets: [1] }).startTimer()(),
      want: /^gatehouse_my_plugin_seconds_count\{instance="edge"\} 1$/m,
    },
  ];
  for (const c of cases) {
    await t.test(c.desc, async (t) => {
      c.act();
      t.match(await registry.metrics(), c.want);
    });
  }
  t.equal(registry.getMetricsAsArray().length, 6, 'each name registered once, whichever instance asked first');
});
