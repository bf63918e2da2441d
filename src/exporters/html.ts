import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FailureClass, TransferRecord } from '../records/transfer-record.js';
import type { ResultRecord } from '../records/result-record.js';
import type { CellRecord } from '../records/cell-record.js';
import { showText } from '../util/show-text.js';
import { pipelineHtml } from '../report/pipeline-summary.js';
import type { RunStartRecord } from '../records/run-records.js';
import { HIDDEN_LEGEND_SUFFIX, type ChartSpec } from '../report/chart-spec.js';
import type { Summary } from '../report/summary.js';
import { esc, num, pct, spreadText, sshdDropsText } from '../report/format.js';
import type { Spread } from '../report/statistics.js';
import type { ThresholdResult } from '../report/threshold-check.js';
import { allCharts } from '../report/chart-specs.js';
import type { Exporter } from './exporter.js';
import { confined, readCapped, REPORT_CAPS } from '../records/report-folder.js';
import { writeReportFile } from '../report/report-dir.js';
import { MAX_FILE_BYTES } from '../spec/limits.js';

/** Raw stderr of failed (or fallen-back) transfers, a few per class, for people to read. */
export function failureSamples(records: readonly ResultRecord[], perClass = 5): Partial<Record<FailureClass, { cell: string; file: string; attempt: number; stderr: string }[]>> {
  const out: Partial<Record<FailureClass, { cell: string; file: string; attempt: number; stderr: string }[]>> = {};
  for (const t of records) {
    if (t.type !== 'transfer') continue;
    for (const a of (t as TransferRecord).attempts) {
      for (const cls of a.classes) {
        const list = (out[cls] ??= []);
        if (list.length < perClass && a.stderr_tail.trim()) list.push({ cell: t.cell, file: t.file, attempt: a.attempt, stderr: a.stderr_tail.trim() });
      }
    }
  }
  return out;
}

export interface LogExcerpt {
  host: string;
  cell: string;
  repeat: number;
  lines: string[];
}

/**
 * sshd log lines around the first drop, refusal or throttling period of each cell repeat, taken
 * from the host's full log (`<ms> <line>` per line, as the run writes it).
 */
export function logExcerpts(records: readonly ResultRecord[], logs: ReadonlyMap<string, string>, context = 3, max = 20): LogExcerpt[] {
  const parsed = new Map([...logs].map(([host, text]) => [host, text.split('\n').filter(Boolean).map((l) => ({ t: Number(l.slice(0, l.indexOf(' '))), line: l }))]));
  const out: LogExcerpt[] = [];
  for (const cell of records.filter((r): r is CellRecord => r.type === 'cell')) {
    const byHost = new Map<string, number>();
    for (const e of cell.sshd_events) if (!byHost.has(e.host)) byHost.set(e.host, e.t);
    for (const [host, t] of byHost) {
      const lines = parsed.get(host);
      if (!lines || out.length >= max) continue;
      const at = lines.findIndex((l) => l.t >= t);
      if (at < 0) continue;
      out.push({ host, cell: cell.cell, repeat: cell.repeat, lines: lines.slice(Math.max(0, at - context), at + context * 3).map((l) => l.line) });
    }
  }
  return out;
}

export interface HtmlReportInput {
  summary: Summary;
  thresholds: readonly ThresholdResult[];
  start: RunStartRecord | undefined;
  scenarioYaml: string;
  charts: readonly ChartSpec[];
  samples: ReturnType<typeof failureSamples>;
  excerpts: readonly LogExcerpt[];
  /** Chart.js UMD bundle, inlined so the page needs no network. */
  chartJs: string;
}

/** JSON inside <script>: a "</script>" in a string must not end the element. */
// Strings from input (cell names, classes) are shown with their control characters escaped on the charts too.
const scriptJson = (v: unknown) => JSON.stringify(v, (_k, x: unknown) => (typeof x === 'string' ? showText(x) : x)).replace(/</g, '\\u003c');
const range = (s: Spread | undefined, f: (v: number) => string) => spreadText(s, f, (min, max) => ` <span class="rng">(${min}–${max})</span>`);

function summaryTable(summary: Summary): string {
  const rows = summary.cells.map((c) => `<tr><td>${esc(c.cell)}</td><td>${c.files}</td><td class="${c.lost ? 'bad' : ''}">${c.lost}</td><td>${range(c.stats.loss_rate, pct)}</td><td>${c.ok}</td><td class="${c.failed ? 'bad' : ''}">${c.failed}</td><td>${c.recovered_by_retry}</td><td class="${c.silent_drops ? 'bad' : ''}">${c.silent_drops}</td>
<td>${range(c.stats.failure_rate, pct)}</td><td>${range(c.stats.throughput_mbps, num)}</td><td>${range(c.stats.files_per_s, num)}</td><td>${range(c.stats.p50_ms, num)}</td><td>${range(c.stats.p95_ms, num)}</td><td>${range(c.stats.p99_ms, num)}</td>
<td class="${c.repeats.some((r) => summary.warnings.some((w) => w.startsWith(`${c.cell} (repeat ${r.repeat})`))) ? 'bad' : ''}">${range(c.stats.peak_in_flight, (v) => v.toFixed(0))} / ${c.repeats[0]?.in_flight_target ?? '-'} <span class="rng">median ${range(c.stats.median_in_flight, (v) => v.toFixed(0))}; ramp ${range(c.stats.ramp_ms, num)} ms</span></td>
<td>${esc(sshdDropsText(c.repeats))}</td><td>${esc(Object.entries(c.classes).map(([k, v]) => `${k}: ${v}`).join(', ') || '-')}</td></tr>`);
  const o = summary.overall;
  return `<table><thead><tr><th>cell</th><th>files</th><th>lost</th><th>loss rate</th><th>ok</th><th>failed</th><th>recovered by retry</th><th>silent drops</th><th>failure rate</th><th>MB/s</th><th>files/s</th><th>p50 ms</th><th>p95 ms</th><th>p99 ms</th><th>in flight (peak / target)</th><th>sshd drops</th><th>failure classes</th></tr></thead>
<tbody>${rows.join('\n')}</tbody></table>
${summary.warnings.map((w) => `<p class="bad">Warning: ${esc(w)}</p>`).join('\n')}
<p>Overall: ${o.files} transfers, ${o.lost} lost (${pct(o.loss_rate)}, not intact at the destination): ${o.failed} failed (${pct(o.failure_rate)}), ${o.silent_drops} silent drops; ${o.ok} ok, ${o.recovered_by_retry} recovered by retry. Values are means over repeats with min–max in brackets. In flight: transfers running at once, from their fork and exit times; ramp: from the first launch to the target-th.</p>`;
}

export function renderHtmlReport(input: HtmlReportInput): string {
  const { summary, thresholds, start } = input;
  const env = start?.environment ?? {};
  const failed = thresholds.filter((t) => !t.passed).length;
  const sections = [
    `<h1>xferbench: ${esc(summary.name)}</h1>
<p class="verdict ${failed ? 'bad' : 'good'}">${thresholds.length === 0 ? 'No thresholds set' : failed ? `${failed} of ${thresholds.length} thresholds failed` : `All ${thresholds.length} thresholds held`}</p>
<p>${esc(String((start?.scenario as { description?: string } | undefined)?.description ?? ''))}</p>
<p>Started ${esc(start?.started_at ?? '?')}; ${start?.plan.cells.length ?? 0} cell(s) × ${start?.plan.repeat ?? 0} repeat(s), ${start?.plan.total_transfers ?? 0} transfers.</p>`,
    `<h2>Machine and tools</h2><table class="kv">${Object.entries(env).map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`,
    `<h2>Summary</h2>${summaryTable(summary)}`,
    ...(summary.nodes ? [`<h2>Per node</h2><table><thead><tr><th>node</th><th>transfers</th><th>ok</th><th>failed</th><th>failure classes</th></tr></thead><tbody>${summary.nodes.map((n) => `<tr><td>${esc(n.node)}</td><td>${n.transfers}</td><td>${n.ok}</td><td class="${n.failed ? 'bad' : ''}">${n.failed}</td><td>${esc(Object.entries(n.classes).map(([k, v]) => `${k}: ${v}`).join(', ') || '-')}</td></tr>`).join('')}</tbody></table>`] : []),
    ...(summary.pipeline ? [pipelineHtml(summary.pipeline)] : []),
    `<h2>Thresholds</h2>${thresholds.length === 0 ? '<p>None set.</p>' : `<ul>${thresholds.map((t) => `<li class="${t.passed ? 'good' : 'bad'}">${t.passed ? 'PASS' : 'FAIL'} <code>${esc(`${t.metric} ${t.condition}`)}</code> [${esc(t.where)}]: actual ${t.actual === null ? 'n/a' : num(t.actual)}</li>`).join('')}</ul>`}`,
    `<h2>Charts</h2>${input.charts.map((c, i) => `<figure><canvas id="chart-${i}" width="1000" height="520" data-name="${esc(c.name)}"></canvas></figure>`).join('\n')}`,
    `<h2>Failure samples</h2>${Object.keys(input.samples).length === 0 ? '<p>No transfer printed an error.</p>' : Object.entries(input.samples).map(([cls, list]) => `<h3>${esc(cls)}</h3>${list!.map((s) => `<p class="meta">${esc(s.cell)} · ${esc(s.file)} · attempt ${s.attempt}</p><pre>${esc(s.stderr)}</pre>`).join('')}`).join('\n')}`,
    `<h2>sshd log around drops and refusals</h2>${input.excerpts.length === 0 ? '<p>No sshd logged a drop, refusal or throttling.</p>' : input.excerpts.map((e) => `<p class="meta">${esc(e.host)} · ${esc(e.cell)} #${e.repeat} (ms on the run clock)</p><pre>${esc(e.lines.join('\n'))}</pre>`).join('\n')}`,
    `<h2>Scenario</h2><pre>${esc(input.scenarioYaml)}</pre>`,
  ];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>xferbench: ${esc(summary.name)}</title>
<style>
body{font-family:system-ui,sans-serif;margin:2em auto;max-width:1200px;padding:0 1em;color:#222}
table{border-collapse:collapse;font-size:13px;margin:1em 0}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}td:first-child,th:first-child,.kv td{text-align:left}
.rng{color:#777;font-size:11px}.bad{color:#b00020;font-weight:600}.good{color:#1b7f3b}.verdict{font-size:1.2em}
pre{background:#f6f6f6;padding:8px;overflow:auto;font-size:12px}.meta{color:#555;margin-bottom:0}figure{margin:1em 0}canvas{max-width:100%}
</style></head><body>
${sections.join('\n')}
<script>${input.chartJs.replace(/<\/script/gi, '<\\/script')}</script>
<script>
const specs = ${scriptJson(input.charts.map((c) => c.config))};
Chart.defaults.plugins.legend.labels.filter = (item) => !item.text.endsWith(${scriptJson(HIDDEN_LEGEND_SUFFIX)});
specs.forEach((config, i) => { new Chart(document.getElementById('chart-' + i), config); });
</script>
</body></html>
`;
}

const require = createRequire(import.meta.url);

/** The Chart.js browser bundle shipped in the chart.js package, inlined into report.html. */
async function chartJsBundle(): Promise<string> {
  // The package exports no subpath for it; it sits beside the CommonJS entry in dist/.
  return readFile(join(dirname(require.resolve('chart.js')), 'chart.umd.min.js'), 'utf8');
}

/** report.html: one self-contained page with the summary, thresholds, charts and evidence. */
export const html: Exporter = {
  name: 'html',
  async write({ dir, records, start, summary, thresholds }) {
    const logs = new Map<string, string>();
    for (const f of await readdir(join(dir, 'logs')).catch(() => [] as string[])) {
      if (!f.endsWith('.log')) continue;
      const text = readCapped(confined(dir, join('logs', f)), REPORT_CAPS.log);
      if (text) logs.set(f.slice(0, -4), text.toString('utf8'));
    }
    const page = renderHtmlReport({
      summary,
      thresholds,
      start,
      scenarioYaml: readCapped(confined(dir, 'scenario.yaml'), MAX_FILE_BYTES)?.toString('utf8') ?? '',
      charts: allCharts(summary, records),
      samples: failureSamples(records),
      excerpts: logExcerpts(records, logs),
      chartJs: await chartJsBundle(),
    });
    await writeReportFile(dir, 'report.html', page);
  },
};
