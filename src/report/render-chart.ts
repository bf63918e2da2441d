import { createCanvas } from '@napi-rs/canvas';
import { Chart, registerables, type ChartConfiguration, type Plugin } from 'chart.js';
import { HIDDEN_LEGEND_SUFFIX } from './chart-spec.js';

Chart.register(...registerables);
Chart.defaults.font.family = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';
Chart.defaults.plugins.legend.labels.filter = (item) => !item.text.endsWith(HIDDEN_LEGEND_SUFFIX);

/** PNGs are transparent by default; a report image wants a white page. */
const whiteBackground: Plugin = {
  id: 'xferbench-white-background',
  beforeDraw(chart) {
    const { ctx, width, height } = chart;
    ctx.save();
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, width, height);
    ctx.restore();
  },
};

/** Renders a Chart.js configuration to PNG with @napi-rs/canvas (prebuilt; no native build). */
export function renderChartPng(config: ChartConfiguration, width = 1000, height = 560): Buffer {
  const canvas = createCanvas(width, height);
  // structuredClone: Chart.js mutates the configuration it is given; the caller's stays JSON.
  const own = structuredClone(config);
  // Chart.js accepts any object with getContext('2d'); its typings name the DOM canvas.
  const chart = new Chart(canvas as unknown as ConstructorParameters<typeof Chart>[0], {
    ...own,
    options: { ...own.options, responsive: false, animation: false, devicePixelRatio: 1 },
    plugins: [...(own.plugins ?? []), whiteBackground],
  } as ChartConfiguration);
  try {
    return canvas.toBuffer('image/png');
  } finally {
    chart.destroy();
  }
}
