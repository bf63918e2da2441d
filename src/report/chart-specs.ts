import type { FaultSummary } from './fault-summary.js';
import type { ChartDataset } from 'chart.js';
import { HIDDEN_LEGEND_SUFFIX, type ChartSpec } from './chart-spec.js';
import { latencyMs, succeeded, type FailureClass, type TransferRecord } from '../records/transfer-record.js';
import { type ResultRecord } from '../records/result-record.js';
import { type CellRecord } from '../records/cell-record.js';
import type { CellSummary, NodeSummary, Summary } from './summary.js';
import { inFlightSteps } from './in-flight.js';
import { ganttCharts } from './gantt-chart.js';


const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const color = (i: number, alpha = 1) => {
  const hex = PALETTE[i % PALETTE.length]!;
  if (alpha === 1) return hex;
  const n = Number.parseInt(hex.slice(1), 16);
  return `rgba(${n >> 16},${(n >> 8) & 255},${n & 255},${alpha})`;
};

const CLASS_COLORS: Record<FailureClass, string> = {
  maxstartups_drop: '#d62728', maxsessions_refused: '#ff7f0e', mux_race: '#bcbd22', timeout: '#9467bd', auth: '#8c564b',
  host_key: '#e377c2', negotiation: '#aec7e8', connection_refused: '#7f7f7f', connection_reset: '#bcbd22', mux_master_lost: '#8c564b', no_space: '#17becf', remote_error: '#1f77b4', io_error: '#98df8a', unknown: '#333333',
};

/** The matrix axis plotted along x: concurrency when it varies, else the first numeric axis. */
export function xAxisKey(summary: Summary): string | undefined {
  const keys = Object.keys(summary.cells[0]?.values ?? {});
  const numeric = keys.filter((k) => summary.cells.every((c) => typeof c.values[k] === 'number'));
  return numeric.includes('concurrency') ? 'concurrency' : numeric[0];
}

/** Cells grouped into variants: every axis but x, e.g. "mux=warm". */
export function variants(summary: Summary, xKey: string | undefined): Map<string, CellSummary[]> {
  const out = new Map<string, CellSummary[]>();
  for (const c of summary.cells) {
    const name = Object.entries(c.values).filter(([k]) => k !== xKey).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join(', ') || 'all';
    out.set(name, [...(out.get(name) ?? []), c]);
  }
  return out;
}

function xScale(values: number[], title: string) {
  const positive = values.filter((v) => v > 0);
  const spansDecades = positive.length > 1 && Math.max(...positive) / Math.min(...positive) >= 10;
  return { type: spansDecades ? ('logarithmic' as const) : ('linear' as const), title: { display: true, text: title } };
}

const base = (title: string) => ({
  responsive: false,
  animation: false as const,
  plugins: { title: { display: true, text: title, font: { size: 16 } }, legend: { position: 'bottom' as const } },
});

/** x per cell: the x-axis value, or the cell's position when nothing numeric varies. */
function xOf(c: CellSummary, xKey: string | undefined): number {
  return xKey ? (c.values[xKey] as number) : c.index;
}

function metricVsX(summary: Summary, metric: 'failure_rate' | 'throughput_mbps' | 'files_per_s', scale: number, unit = '', extra: Partial<ChartDataset<'line'>> = {}): { datasets: ChartDataset<'line'>[]; xs: number[] } {
  const xKey = xAxisKey(summary);
  const datasets: ChartDataset<'line'>[] = [];
  const xs: number[] = [];
  [...variants(summary, xKey)].forEach(([variant, cells], i) => {
    const name = `${variant}${unit}`;
    const points = cells.map((c) => ({ x: xOf(c, xKey), s: c.stats[metric] })).filter((p) => p.s).sort((a, b) => a.x - b.x);
    xs.push(...points.map((p) => p.x));
    datasets.push({ label: name, data: points.map((p) => ({ x: p.x, y: p.s!.mean * scale })), borderColor: color(i), backgroundColor: color(i), pointRadius: 4, fill: false, ...extra });
    if (points.some((p) => p.s!.min !== p.s!.max)) {
      const axis = extra.yAxisID ? { yAxisID: extra.yAxisID } : {};
      datasets.push({ label: `${name}${HIDDEN_LEGEND_SUFFIX}`, data: points.map((p) => ({ x: p.x, y: p.s!.min * scale })), borderColor: 'transparent', pointRadius: 0, fill: false, ...axis });
      datasets.push({ label: `${name} min–max`, data: points.map((p) => ({ x: p.x, y: p.s!.max * scale })), borderColor: 'transparent', backgroundColor: color(i, 0.15), pointRadius: 0, fill: '-1', ...axis });
    }
  });
  return { datasets, xs };
}

export function failureRateChart(summary: Summary): ChartSpec {
  const xKey = xAxisKey(summary);
  const { datasets, xs } = metricVsX(summary, 'failure_rate', 100);
  return {
    name: 'failure-rate',
    title: 'Failure rate vs concurrency',
    config: {
      type: 'line',
      data: { datasets },
      options: {
        ...base(`Failure rate by ${xKey ?? 'cell'} (mean, band: min–max over repeats)`),
        scales: { x: xScale(xs, xKey ?? 'cell'), y: { min: 0, title: { display: true, text: 'failed transfers (%)' } } },
      },
    },
  };
}

export function throughputChart(summary: Summary): ChartSpec {
  const xKey = xAxisKey(summary);
  const mb = metricVsX(summary, 'throughput_mbps', 1, ' (MB/s)', { yAxisID: 'mb' });
  const files = metricVsX(summary, 'files_per_s', 1, ' (files/s)', { yAxisID: 'files', borderDash: [6, 4] });
  return {
    name: 'throughput',
    title: 'Throughput vs concurrency',
    config: {
      type: 'line',
      data: { datasets: [...mb.datasets, ...files.datasets] },
      options: {
        ...base(`Throughput by ${xKey ?? 'cell'}: MB/s (solid), files/s (dashed)`),
        scales: {
          x: xScale(mb.xs, xKey ?? 'cell'),
          mb: { position: 'left', min: 0, title: { display: true, text: 'verified MB/s (10^6 B/s)' } },
          files: { position: 'right', min: 0, title: { display: true, text: 'verified files/s' }, grid: { drawOnChartArea: false } },
        },
      },
    },
  };
}

/** executor: slurm — per cell, each node's verified MB/s, and the share of its transfers that failed. */
export function nodesCharts(summary: Summary): ChartSpec[] {
  const nodes = summary.nodes;
  if (!nodes) return [];
  const cells = summary.cells.map((c) => c.cell);
  const chart = (name: string, title: string, axis: string, value: (c: NodeSummary['cells'][number]) => number, max?: number): ChartSpec => ({
    name,
    title,
    config: {
      type: 'bar',
      data: { labels: cells, datasets: nodes.map((n, i) => ({ label: n.node, data: cells.map((cell) => { const c = n.cells.find((x) => x.cell === cell); return c ? value(c) : null; }), backgroundColor: color(i, 0.8) })) },
      options: { ...base(title), scales: { x: { title: { display: true, text: 'matrix cell' } }, y: { min: 0, ...(max ? { max } : {}), title: { display: true, text: axis } } } },
    },
  });
  return [
    chart('nodes-throughput', 'Per Slurm node and cell: verified MB/s of the transfers it launched', 'verified MB/s (10^6 B/s)', (c) => c.throughput_mbps),
    chart('nodes-failures', 'Per Slurm node and cell: share of the transfers it launched that failed', 'failed %', (c) => (c.transfers > 0 ? (100 * c.failed) / c.transfers : 0), 100),
  ];
}

export function failureClassesChart(summary: Summary): ChartSpec {
  const classes = [...new Set(summary.cells.flatMap((c) => Object.keys(c.classes)))] as FailureClass[];
  return {
    name: 'failure-classes',
    title: 'Failure classes per cell',
    config: {
      type: 'bar',
      data: {
        labels: summary.cells.map((c) => c.cell),
        datasets: classes.map((cls) => ({ label: cls, data: summary.cells.map((c) => c.classes[cls] ?? 0), backgroundColor: CLASS_COLORS[cls] })),
      },
      options: {
        ...base('Failure classes per matrix cell (all repeats; a transfer may carry several)'),
        scales: { x: { stacked: true, title: { display: true, text: 'matrix cell' } }, y: { stacked: true, min: 0, title: { display: true, text: 'transfers' } } },
      },
    },
  };
}

const MAX_CDF_POINTS = 200;

export function latencyChart(summary: Summary, transfers: readonly TransferRecord[]): ChartSpec {
  const byCell = new Map<string, number[]>();
  for (const t of transfers.filter(succeeded)) byCell.set(t.cell, [...(byCell.get(t.cell) ?? []), latencyMs(t)]);
  const all: number[] = [];
  const datasets: ChartDataset<'line'>[] = summary.cells.map((c, i) => {
    const sorted = (byCell.get(c.cell) ?? []).sort((a, b) => a - b);
    all.push(...sorted);
    const step = Math.max(1, Math.ceil(sorted.length / MAX_CDF_POINTS));
    const data = sorted.flatMap((ms, k) => (k % step === 0 || k === sorted.length - 1 ? [{ x: ms, y: (100 * (k + 1)) / sorted.length }] : []));
    return { label: c.cell, data, borderColor: color(i), backgroundColor: color(i), pointRadius: 0, stepped: true, fill: false };
  });
  return {
    name: 'latency',
    title: 'Transfer latency distribution',
    config: {
      type: 'line',
      data: { datasets },
      options: {
        ...base('Latency of successful transfers (CDF, all repeats)'),
        scales: { x: { ...xScale(all, 'transfer time (ms), retries included'), type: xScale(all, '').type }, y: { min: 0, max: 100, title: { display: true, text: 'transfers done within x (%)' } } },
      },
    },
  };
}

const MAX_TIMELINE_POINTS = 4000;

/** Active transfers over the run, failures as points, sshd throttling shaded, cell boundaries. */
export function timelineChart(records: readonly ResultRecord[], injected: readonly FaultSummary[]): ChartSpec {
  const transfers = records.filter((r): r is TransferRecord => r.type === 'transfer');
  const cells = records.filter((r): r is CellRecord => r.type === 'cell');
  const active = inFlightSteps(transfers).map((s) => ({ x: s.t / 1000, y: s.running }));
  const step = Math.max(1, Math.ceil(active.length / MAX_TIMELINE_POINTS));
  const sampled = active.filter((_, i) => i % step === 0 || i === active.length - 1);
  const top = Math.max(1, ...active.map((p) => p.y));
  const failed = transfers.filter((t) => t.status === 'failed').map((t) => ({ x: t.end_ms / 1000, y: 0 }));
  // A point with y null breaks a line (a bare null is not valid point data for Chart.js).
  type Pt = { x: number; y: number | null };
  const gap = (x: number): Pt => ({ x, y: null });
  const throttle: Pt[] = [];
  const drops: { x: number; y: number }[] = [];
  for (const c of cells) {
    let begin: number | undefined;
    for (const e of c.sshd_events) {
      if (e.kind === 'throttle_begin') begin = e.t;
      if (e.kind === 'throttle_end' && begin !== undefined) {
        throttle.push({ x: begin / 1000, y: 0 }, { x: begin / 1000, y: top }, { x: e.t / 1000, y: top }, { x: e.t / 1000, y: 0 }, gap(e.t / 1000));
        begin = undefined;
      }
      if (e.kind === 'drop' || e.kind === 'penalty_drop') drops.push({ x: e.t / 1000, y: top });
    }
  }
  const boundaries: Pt[] = cells.flatMap((c) => [{ x: c.start_ms / 1000, y: 0 }, { x: c.start_ms / 1000, y: top }, gap(c.start_ms / 1000)]);
  // Injected faults (faults/) shaded from start to undo, so a failure shows next to its cause.
  const lastT = Math.max(0, ...cells.map((c) => c.end_ms));
  const faults: Pt[] = injected.flatMap((f) => {
    const [a, b] = [f.start_ms / 1000, (f.end_ms ?? lastT) / 1000];
    return [{ x: a, y: 0 }, { x: a, y: top }, { x: b, y: top }, { x: b, y: 0 }, gap(b)];
  });
  return {
    name: 'timeline',
    title: 'Timeline',
    config: {
      type: 'scatter',
      data: {
        datasets: [
          { label: 'transfers in flight', data: sampled, showLine: true, stepped: true, pointRadius: 0, borderColor: color(0), backgroundColor: color(0) },
          { label: 'failed transfer (at its end)', data: failed, pointRadius: 3, pointStyle: 'crossRot', borderColor: '#d62728', backgroundColor: '#d62728' },
          { label: 'sshd MaxStartups drop (sshd log)', data: drops, pointRadius: 2, pointStyle: 'triangle', borderColor: '#ff7f0e', backgroundColor: '#ff7f0e' },
          { label: 'sshd throttling period', data: throttle as { x: number; y: number }[], showLine: true, spanGaps: false, pointRadius: 0, borderWidth: 0, fill: 'origin', backgroundColor: 'rgba(255,127,14,0.12)' },
          ...(faults.length > 0 ? [{ label: 'injected fault', data: faults as { x: number; y: number }[], showLine: true, spanGaps: false, pointRadius: 0, borderWidth: 0, fill: 'origin' as const, backgroundColor: 'rgba(214,39,40,0.15)' }] : []),
          { label: 'cell start', data: boundaries as { x: number; y: number }[], showLine: true, spanGaps: false, pointRadius: 0, borderWidth: 1, borderDash: [2, 3], borderColor: '#999999', backgroundColor: '#999999' },
        ],
      },
      options: {
        ...base('Timeline: transfers in flight, failures, sshd drops and throttling, injected faults'),
        scales: { x: { type: 'linear', min: 0, title: { display: true, text: 'seconds since run start' } }, y: { min: 0, title: { display: true, text: 'transfers in flight' } } },
      },
    },
  };
}

export function allCharts(summary: Summary, records: readonly ResultRecord[]): ChartSpec[] {
  const transfers = records.filter((r): r is TransferRecord => r.type === 'transfer');
  return [failureRateChart(summary), throughputChart(summary), failureClassesChart(summary), latencyChart(summary, transfers), timelineChart(records, summary.faults.filter((f) => f.outcome === 'applied')), ...nodesCharts(summary), ...ganttCharts(records)];
}
