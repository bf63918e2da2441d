import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { readResults } from '../../src/report/report-dir.js';
import type { ResultRecord } from '../../src/records/result-record.js';
import type { StepRecord } from '../../src/records/pipeline-records.js';
import { allCharts } from '../../src/report/chart-specs.js';
import { ganttCharts } from '../../src/report/gantt-chart.js';
import { renderChartPng } from '../../src/report/render-chart.js';
import { buildSummary } from '../../src/report/summary.js';
import { REPO } from '../helpers/harness.js';

describe('reports of executor: slurm', () => {
  it('per node and cell: transfers, failures and verified MB/s, and a chart of each', async () => {
    const records = (await readResults(join(REPO, 'test', 'fixtures', 'runs', 'base'))).map((r, i) => (r.type === 'transfer' ? { ...r, node: `n${(i % 2) + 1}` } : r));
    const summary = buildSummary(records);
    assert.deepEqual(summary.nodes!.map((n) => n.node), ['n1', 'n2']);
    for (const n of summary.nodes!) {
      assert.equal(n.cells.reduce((s, c) => s + c.transfers, 0), n.transfers, `${n.node}: the cells add up`);
      assert.deepEqual(n.cells.map((c) => c.cell), summary.cells.map((c) => c.cell));
      assert.ok(n.cells.every((c) => c.throughput_mbps > 0 && Number.isFinite(c.throughput_mbps)));
    }
    const charts = allCharts(summary, records).filter((c) => c.name.startsWith('nodes-'));
    assert.deepEqual(charts.map((c) => c.name), ['nodes-throughput', 'nodes-failures']);
    for (const c of charts) assert.ok(renderChartPng(c.config).length > 5000, `${c.name} renders`);
    assert.equal(allCharts(buildSummary(records.map((r) => (r.type === 'transfer' ? { ...r, node: undefined } : r)) as ResultRecord[]), records).some((c) => c.name.startsWith('nodes-')), false, 'no node chart for a local run');
  });

  it("the Gantt chart labels each rank with its jobs in dependency order, a cancelled one in brackets", () => {
    const step = (rank: number, name: StepRecord['step'], status: StepRecord['status'], job: string, t: number): StepRecord => ({ type: 'step', cell: 'c', repeat: 1, rank, step: name, status, start_ms: t, end_ms: t + 100, files: 1, bytes: 1, job_id: job });
    const records: ResultRecord[] = [
      step(0, 'cleanup', 'skipped', '12', 400), step(0, 'stage_out', 'ok', '9', 300), step(0, 'stage_in', 'ok', '1', 100), step(0, 'compute', 'ok', '5', 200),
      step(1, 'stage_in', 'failed', '2', 100), step(1, 'compute', 'skipped', '6', 200), step(1, 'cleanup', 'ok', '13', 300),
    ];
    const [chart] = ganttCharts(records);
    assert.deepEqual(chart!.config.data.labels, ['rank 0: 1 > 5 > 9 > (12)', 'rank 1: 2 > (6) > 13']);
    const local = ganttCharts(records.map((r) => ({ ...r, job_id: undefined })) as ResultRecord[]);
    assert.deepEqual(local[0]!.config.data.labels, ['rank 0', 'rank 1']);
  });
});
