// A uPlot chart as a preact component: made once per set of series, fed new data each second.
import { Component, uPlot } from '../deps.js';
import { html } from './html.js';

/** Series colours with enough contrast on both themes' card background. */
const LIGHT = ['#0b5cad', '#b3261e', '#146c2e', '#7b3fa0', '#8a5300', '#006874', '#a8326b', '#4a5a00'];
const DARK = ['#6cb4ff', '#ff8a8f', '#7ddc8f', '#d0a6f5', '#ffc46b', '#6fd6e0', '#ff9ecb', '#c5d86d'];

function dark() {
  return matchMedia('(prefers-color-scheme: dark)').matches;
}

/** The colour of the i-th series in the current theme. */
export function colour(i) {
  const p = dark() ? DARK : LIGHT;
  return p[i % p.length];
}

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/**
 * props: id, title, unit (axis label), labels (series names), dashes (per series, optional),
 * data ([t, ...series]), points (draw each value), minMax (least top of the y axis),
 * theme (a key: the chart is rebuilt when it changes).
 */
export class Chart extends Component {
  componentDidMount() {
    this.build();
    this.resize = new ResizeObserver(() => this.plot && this.plot.setSize(this.size()));
    this.resize.observe(this.el);
  }

  componentWillUnmount() {
    this.resize?.disconnect();
    this.plot?.destroy();
  }

  // uPlot owns the element: new props are handed to it here, and preact never re-renders it.
  shouldComponentUpdate(next) {
    const key = (p) => `${p.theme}|${p.labels.join('\u0000')}`;
    const rebuild = key(next) !== key(this.props);
    this.props = next;
    if (rebuild) this.build();
    else this.plot?.setData(next.data);
    this.el.setAttribute('aria-label', next.summary);
    return false;
  }

  size() {
    const w = Math.max(240, this.el.clientWidth);
    return { width: w, height: w < 420 ? 160 : 200 };
  }

  build() {
    this.plot?.destroy();
    const { labels, dashes = [], unit, data } = this.props;
    const fg = css('--muted');
    const grid = css('--grid');
    const axis = { stroke: fg, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts = {
      ...this.size(),
      scales: { x: { time: true }, y: { range: (u, min, max) => [0, Math.max(max, this.props.minMax ?? 1)] } },
      series: [
        {},
        ...labels.map((label, i) => ({
          label,
          stroke: colour(dashes[i] === undefined ? i : Math.floor(i / 2)),
          width: 1.5,
          dash: dashes[i] || undefined,
          // Latency has gaps (seconds without requests): points keep lone seconds visible.
          points: this.props.points ? { show: true, size: 4 } : { show: false },
          value: (u, v) => (v === null || v === undefined ? '–' : `${Math.round(v * 100) / 100} ${unit}`),
        })),
      ],
      axes: [axis, { ...axis, size: 56, label: unit, labelSize: 16 }],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    this.plot = new uPlot(opts, data, this.el);
  }

  render({ id, title, summary }) {
    return html`<figure class="card-figure" aria-labelledby=${`${id}-title`}>
      <figcaption id=${`${id}-title`}><h3>${title}</h3></figcaption>
      <div class="chart" id=${id} role="img" aria-label=${summary} ref=${(el) => (this.el = el)}></div>
    </figure>`;
  }
}
