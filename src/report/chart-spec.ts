import type { ChartConfiguration } from 'chart.js';

/**
 * Chart.js configurations for a run, as plain JSON: the same objects are rendered to PNG on the
 * server and embedded in report.html for the browser. Band datasets (min–max over repeats) come
 * in pairs: a "<variant> min" line, hidden from the legend, and a "<variant> min–max" fill.
 */
export interface ChartSpec {
  name: string;
  title: string;
  config: ChartConfiguration;
}

export const HIDDEN_LEGEND_SUFFIX = ' min';
