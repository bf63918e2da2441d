import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { cp, mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { EXPORTERS, exporter, type Exporter, type ReportInput } from '../../src/exporters/index.js';
import { writeDerivedReport } from '../../src/exporters/write-report.js';
import { loadImage } from '@napi-rs/canvas';
import { XMLParser } from 'fast-xml-parser';
import { readResults } from '../../src/report/report-dir.js';
import { buildSummary } from '../../src/report/summary.js';
import { allCharts, xAxisKey, failureRateChart } from '../../src/report/chart-specs.js';
import { renderChartPng } from '../../src/report/render-chart.js';
import { renderJunit } from '../../src/exporters/junit.js';
import { compareSummaries } from '../../src/report/compare-runs.js';
import { checkThresholds } from '../../src/report/threshold-check.js';
import { renderMarkdownSummary } from '../../src/exporters/step-summary.js';
import { renderSuiteIndex } from '../../src/report/suite-index.js';
import { renderHtmlReport } from '../../src/exporters/html.js';
import { createProgress, progressMode } from '../../src/report/progress-display.js';
import { parseCondition } from '../../src/spec/thresholds.js';
import { REPO } from '../helpers/harness.js';

const fixture = (name: string) => join(REPO, 'test', 'fixtures', 'runs', name);
const load = async (name: string) => {
  const records = await readResults(fixture(name));
  return { records, summary: buildSummary(records) };
};
const cond = (t: string) => parseCondition(t) as Exclude<ReturnType<typeof parseCondition>, string>;

/** Decodes a PNG and measures how much of it is drawn (not background). */
async function inked(png: Buffer): Promise<{ width: number; height: number; inkFraction: number; colours: number }> {
  const img = await loadImage(png);
  const { createCanvas } = await import('@napi-rs/canvas');
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  ctx.drawImage(img, 0, 0);
  const { data } = ctx.getImageData(0, 0, img.width, img.height);
  let ink = 0;
  const colours = new Set<number>();
  for (let i = 0; i < data.length; i += 4) {
    if (data[i]! < 245 || data[i + 1]! < 245 || data[i + 2]! < 245) ink++;
    colours.add((data[i]! >> 4) * 256 + (data[i + 1]! >> 4) * 16 + (data[i + 2]! >> 4));
  }
  return { width: img.width, height: img.height, inkFraction: ink / (data.length / 4), colours: colours.size };
}

describe('charts from a fixed results file', () => {
  it('renders every chart as a non-trivial PNG', async () => {
    const { records, summary } = await load('regressed');
    const charts = allCharts(summary, records);
    assert.deepEqual(charts.map((c) => c.name), ['failure-rate', 'throughput', 'failure-classes', 'latency', 'timeline']);
    for (const chart of charts) {
      const png = renderChartPng(chart.config);
      assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], `${chart.name} is a PNG`);
      const m = await inked(png);
      assert.equal(m.width, 1000);
      assert.ok(m.inkFraction > 0.01, `${chart.name}: something is drawn (${m.inkFraction})`);
      assert.ok(m.colours > 8, `${chart.name}: axes, text and series, not one flat colour (${m.colours})`);
    }
  });

  it('carries the numbers of the summary and the records, not only ink', async () => {
    const { records, summary } = await load('regressed');
    const byName = new Map(allCharts(summary, records).map((c) => [c.name, c.config.data.datasets]));
    const points = (d: { data: unknown }) => d.data as { x: number; y: number | null }[];

    const classes = byName.get('failure-classes')!;
    for (const d of classes) assert.deepEqual(d.data, summary.cells.map((c) => c.classes[d.label as keyof typeof c.classes] ?? 0), String(d.label));
    assert.ok(classes.some((d) => d.label === 'maxstartups_drop'));

    const mbps = points(byName.get('throughput')![0]!);
    assert.deepEqual(mbps.map((p) => p.y), summary.cells.map((c) => c.stats.throughput_mbps!.mean));

    const timeline = byName.get('timeline')!;
    const series = (label: string) => points(timeline.find((d) => d.label === label)!);
    const transfers = records.filter((r) => r.type === 'transfer');
    assert.equal(series('failed transfer (at its end)').length, transfers.filter((t) => t.status === 'failed').length);
    const drops = records.flatMap((r) => (r.type === 'cell' ? r.sshd_events.filter((e) => e.kind === 'drop') : []));
    assert.equal(series('sshd MaxStartups drop (sshd log)').length, drops.length);
    const peak = Math.max(...summary.cells.flatMap((c) => c.repeats.map((r) => r.peak_in_flight)));
    assert.equal(Math.max(...series('transfers in flight').map((p) => p.y ?? 0)), peak, 'in flight over time peaks where the summary says');
  });

  it('plots failure rate against concurrency with a min–max band per variant', async () => {
    const { summary } = await load('regressed');
    assert.equal(xAxisKey(summary), 'concurrency');
    const spec = failureRateChart(summary);
    const sets = spec.config.data.datasets;
    assert.deepEqual(sets.map((d) => d.label), ['all', 'all min', 'all min–max']);
    const mean = sets[0]!.data as { x: number; y: number }[];
    assert.deepEqual(mean.map((p) => p.x), [10, 40]);
    assert.equal(mean[0]!.y, 0);
    assert.ok(mean[1]!.y > 10, 'drops at 40 against MaxStartups 10:30:100');
    const opts = spec.config.options as { scales: { x: { type: string; title: { text: string } }; y: { title: { text: string } } } };
    assert.equal(opts.scales.x.type, 'linear', '10..40 does not span a decade');
    assert.match(opts.scales.y.title.text, /%/);
  });

  it('uses a log axis when concurrency spans decades', () => {
    const cell = (n: number, i: number) => ({ cell: `c=${n}`, index: i, values: { concurrency: n }, repeats: [], stats: { failure_rate: { mean: 0, min: 0, max: 0 } }, classes: {}, files: 1, lost: 0, ok: 1, failed: 0, silent_drops: 0, recovered_by_retry: 0 });
    const spec = failureRateChart({ name: 'x', cells: [cell(1, 0), cell(10, 1), cell(100, 2)], warnings: [], faults: [], overall: { files: 3, lost: 0, ok: 3, failed: 0, recovered_by_retry: 0, silent_drops: 0, loss_rate: 0, failure_rate: 0, classes: {} } });
    assert.equal((spec.config.options as { scales: { x: { type: string } } }).scales.x.type, 'logarithmic');
  });
});

describe('compare', () => {
  const tol = { failureRate: 0.02, relative: 0.1 };
  it('finds no regression between two runs of the same configuration', async () => {
    const rows = compareSummaries((await load('base')).summary, (await load('same')).summary, tol);
    assert.deepEqual(rows.map((r) => r.verdict), ['unchanged', 'unchanged']);
  });
  it('flags the cell whose failure rate rose beyond the repeat ranges and tolerance', async () => {
    const rows = compareSummaries((await load('base')).summary, (await load('regressed')).summary, tol);
    const c40 = rows.find((r) => r.cell === 'concurrency=40')!;
    assert.equal(c40.verdict, 'regression');
    assert.equal(c40.changes.find((c) => c.metric === 'failure_rate')!.verdict, 'regression');
    assert.equal(rows.find((r) => r.cell === 'concurrency=10')!.changes.find((c) => c.metric === 'failure_rate')!.verdict, 'unchanged');
  });
  it('treats overlapping repeat ranges as noise even when the means differ', () => {
    const s = (mean: number, min: number, max: number) => ({ name: 'x', cells: [{ cell: 'a', index: 0, values: {}, repeats: [], stats: { failure_rate: { mean, min, max } }, classes: {}, files: 1, lost: 0, ok: 1, failed: 0, silent_drops: 0, recovered_by_retry: 0 }], warnings: [], faults: [], overall: { files: 1, lost: 0, ok: 1, failed: 0, recovered_by_retry: 0, silent_drops: 0, loss_rate: 0, failure_rate: 0, classes: {} } });
    assert.equal(compareSummaries(s(0.1, 0.05, 0.2), s(0.18, 0.12, 0.24), tol)[0]!.verdict, 'unchanged');
    assert.equal(compareSummaries(s(0.1, 0.05, 0.2), s(0.3, 0.25, 0.35), tol)[0]!.verdict, 'regression');
  });
});

describe('CI outputs', () => {
  it('JUnit: one test case per cell and threshold, failures where thresholds failed', async () => {
    const { summary } = await load('regressed');
    const results = checkThresholds([{ metric: 'failure_rate', condition: cond('<= 0'), scope: 'cell' }, { metric: 'silent_drops', condition: cond('== 0'), scope: 'overall' }], summary);
    const xml = renderJunit([{ name: 'compare-fixture', time: 12.5, thresholds: results }, { name: 'broken', time: 0.1, thresholds: [], error: 'sshd rejected <config>' }]);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(xml);
    const root = doc.testsuites;
    assert.equal(root['@tests'], '4');
    assert.equal(root['@failures'], '1');
    assert.equal(root['@errors'], '1');
    const [first, second] = root.testsuite;
    for (const attr of ['@name', '@tests', '@failures', '@errors', '@skipped', '@time']) assert.ok(attr in first, attr);
    assert.equal(first.testcase.length, 3);
    for (const tc of first.testcase) for (const attr of ['@classname', '@name', '@time']) assert.ok(attr in tc, attr);
    const failed = first.testcase.filter((tc: Record<string, unknown>) => 'failure' in tc);
    assert.equal(failed.length, 1);
    assert.match(failed[0]['@name'], /failure_rate <= 0 \[concurrency=40\]/);
    assert.equal(second.testcase.error['@message'], 'sshd rejected <config>');
  });

  it('Markdown job summary shows the table and failed thresholds', async () => {
    const { summary } = await load('regressed');
    const results = checkThresholds([{ metric: 'failure_rate', condition: cond('<= 0'), scope: 'cell' }], summary);
    const md = renderMarkdownSummary(summary, results, '/r');
    assert.match(md, /^### xferbench: compare-fixture ❌/);
    assert.match(md, /\| concurrency=40 \| 80 \|/);
    assert.match(md, /❌ `failure_rate <= 0` \[concurrency=40\]/);
  });

  it('suite index links every scenario report', () => {
    const html = renderSuiteIndex([
      { scenario: 'a', file: 'a.yaml', reportDir: 'a', exitCode: 0, thresholdsPassed: 2, thresholdsFailed: 0, failureRate: 0, silentDrops: 0 },
      { scenario: 'b<x>', file: 'b.yaml', exitCode: 2, thresholdsPassed: 0, thresholdsFailed: 0, error: 'bad' },
    ], 'suite');
    assert.match(html, /<a href="a\/report.html">a<\/a>/);
    assert.match(html, /b&lt;x&gt;/);
  });
});

describe('progress', () => {
  it('chooses a bar on a terminal, lines in CI logs, nothing when quiet', () => {
    assert.equal(progressMode({ isTTY: true }), 'bar');
    assert.equal(progressMode({ isTTY: false }), 'lines');
    assert.equal(progressMode({ quiet: true, isTTY: true }), 'quiet');
  });

  it('prints plain periodic lines with counts, rate and ETA', async () => {
    const { records } = await load('regressed');
    const out = new PassThrough();
    let text = '';
    out.on('data', (b) => (text += String(b)));
    const p = createProgress('lines', out, 20);
    p.onEvent({ type: 'planned', plan: { totalTransfers: 160 } as never });
    const transfers = records.filter((r) => r.type === 'transfer');
    for (const r of transfers.slice(0, 80)) p.onEvent({ type: 'transfer', record: r as never });
    await new Promise((r) => setTimeout(r, 60));
    p.stop();
    assert.match(text, /progress: 80\/160 transfers \(50%\), \d+ failed, cell .*, [\d.]+ MB\/s, elapsed \d+s, ETA \d+s/);
  });
});

describe('report.html summary', () => {
  it('shows transfers in flight per cell and the warning of a cell that did not reach its concurrency', async () => {
    const { records, summary } = await load('base');
    const slow = { ...summary, warnings: ['concurrency=40 (repeat 1): at most 12 of 40 transfers were in flight'] };
    const html = renderHtmlReport({ summary: slow, thresholds: [], start: undefined, scenarioYaml: '', charts: allCharts(summary, records), samples: {}, excerpts: [], chartJs: '' });
    assert.match(html, /<th>in flight \(peak \/ target\)<\/th>/);
    const c = summary.cells[0]!;
    assert.ok(html.includes(`${c.repeats[0]!.peak_in_flight} / ${c.repeats[0]!.in_flight_target}`), 'peak / target of the first cell');
    assert.match(html, /<p class="bad">Warning: concurrency=40 \(repeat 1\): at most 12 of 40/);
  });
});

describe('exporters', () => {
  it('are registered by name, and a user\'s own is one object that gets the records, summary and thresholds', async () => {
    assert.deepEqual(Object.keys(EXPORTERS).sort(), ['html', 'json', 'junit', 'png', 'step-summary', 'summary-json', 'summary-txt', 'table']);
    const dir = await mkdtemp(join(tmpdir(), 'xferbench-exporters-'));
    try {
      await cp(fixture('base'), dir, { recursive: true });
      const seen: ReportInput[] = [];
      const printed: string[] = [];
      const mine: Exporter = { name: 'mine', write: async (run) => void seen.push(run) };
      await writeDerivedReport(dir, { exporters: [mine, exporter('table', { print: (t) => printed.push(t) })] });
      assert.equal(seen.length, 1);
      assert.equal(seen[0]!.dir, dir);
      assert.ok(seen[0]!.records.length > 100);
      assert.deepEqual(seen[0]!.summary.cells.map((c) => c.cell), ['concurrency=10', 'concurrency=40']);
      assert.match(printed[0]!, /concurrency=40[\s\S]*report: .*report\.html/);
      for (const f of ['summary.json', 'summary.txt', 'report.html']) assert.ok((await stat(join(dir, f))).size > 0, f);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
