import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentDrops, verifyDestination } from '../../src/verification/verify.js';
import { percentile, spread } from '../../src/report/statistics.js';
import { buildSummary } from '../../src/report/summary.js';
import { checkThresholds } from '../../src/report/threshold-check.js';
import { parseCondition } from '../../src/scenario/thresholds.js';
import type { CellRecord, ResultRecord, TransferRecord } from '../../src/records/transfer-record.js';
import { emptyCounters } from '../../src/hosts/sshd-log.js';

const manifest = [
  { path: 'a', size: 3, sha256: 'aa' },
  { path: 'b', size: 3, sha256: 'bb' },
  { path: 'c', size: 3, sha256: 'cc' },
];

function transfer(file: string, status: TransferRecord['status'], cell = 'c1', repeat = 1, ms = 100): TransferRecord {
  const failed = status === 'failed';
  return {
    type: 'transfer', cell, repeat, file, bytes: 3, status, start_ms: 0, end_ms: ms, attempts: [],
    failure_class: failed ? 'maxstartups_drop' : null, classes: failed ? ['maxstartups_drop'] : [], first_failure_class: failed || status === 'recovered' ? 'maxstartups_drop' : null,
  };
}

function cell(name: string, repeat: number, values: Record<string, unknown>, over: Partial<CellRecord>): CellRecord {
  return {
    type: 'cell', cell: name, cell_index: 0, values, repeat, start_ms: 0, end_ms: 1000, files: 4, bytes_ok: 4e6, ok: 4, failed: 0, recovered: 0, canceled: 0,
    silent_drops: 0, sshd: { target: emptyCounters() }, sshd_events: [], mux: { mode: 'off' }, ...over,
  };
}

describe('verification', () => {
  it('finds ok, missing, corrupt and extra files', () => {
    const found = [
      { path: 'a', size: 3, sha256: 'aa' },
      { path: 'b', size: 3, sha256: 'XX' },
      { path: '.c.Xy12', size: 1, sha256: 'zz' },
    ];
    const r = verifyDestination(manifest, found);
    assert.deepEqual(r.counts, { ok: 1, missing: 1, corrupt: 1, extra: 1 });
    assert.deepEqual(r.problems.map((p) => [p.path, p.verdict]), [['b', 'corrupt'], ['c', 'missing'], ['.c.Xy12', 'extra']]);
  });

  it('calls a file a silent drop only when its transfer claimed success', () => {
    const { verdicts } = verifyDestination(manifest, [{ path: 'a', size: 3, sha256: 'aa' }]);
    const drops = silentDrops([transfer('a', 'ok'), transfer('b', 'recovered'), transfer('c', 'failed')], verdicts);
    assert.deepEqual(drops, ['b']);
  });
});

describe('statistics', () => {
  it('interpolates percentiles', () => {
    assert.equal(percentile([1, 2, 3, 4], 50), 2.5);
    assert.equal(percentile([5], 99), 5);
    assert.equal(percentile([10, 20, 30, 40, 50], 95), 48);
    assert.equal(percentile([], 50), null);
  });
  it('gives mean and min-max, skipping missing values', () => {
    assert.deepEqual(spread([1, null, 3]), { mean: 2, min: 1, max: 3 });
    assert.equal(spread([null]), null);
  });
});

describe('summary and thresholds', () => {
  const records: ResultRecord[] = [
    transfer('a', 'ok', 'n=5', 1, 100), transfer('b', 'ok', 'n=5', 1, 300), transfer('c', 'ok', 'n=5', 1, 200), transfer('d', 'ok', 'n=5', 1, 400),
    cell('n=5', 1, { concurrency: 5 }, {}),
    transfer('a', 'ok', 'n=50', 1), transfer('b', 'failed', 'n=50', 1), transfer('c', 'recovered', 'n=50', 1), transfer('d', 'ok', 'n=50', 1),
    cell('n=50', 1, { concurrency: 50 }, { ok: 3, failed: 1, recovered: 1, silent_drops: 1, bytes_ok: 2e6, sshd: { target: { ...emptyCounters(), maxstartups_drops: 1 } } }),
    transfer('a', 'failed', 'n=50', 2), transfer('b', 'failed', 'n=50', 2), transfer('c', 'ok', 'n=50', 2), transfer('d', 'ok', 'n=50', 2),
    cell('n=50', 2, { concurrency: 50 }, { ok: 2, failed: 2, bytes_ok: 2e6, end_ms: 2000 }),
  ];
  const summary = buildSummary(records);

  it('aggregates per cell with min-max over repeats', () => {
    const [low, high] = summary.cells;
    assert.equal(low!.repeats[0]!.p50_ms, 250);
    assert.equal(low!.stats.throughput_mbps!.mean, 4);
    assert.deepEqual(high!.stats.failure_rate, { mean: 0.375, min: 0.25, max: 0.5 });
    assert.equal(high!.recovered_by_retry, 1);
    assert.equal(high!.silent_drops, 1);
    assert.deepEqual(high!.classes, { maxstartups_drop: 3 });
    assert.equal(high!.repeats[0]!.sshd_maxstartups_drops, 1);
    assert.equal(summary.overall.failed, 3);
    assert.equal(summary.overall.files, 12);
  });

  it('judges a cell threshold on its worst repeat, only in cells it applies to', () => {
    const cond = (t: string) => parseCondition(t) as Exclude<ReturnType<typeof parseCondition>, string>;
    const results = checkThresholds(
      [
        { metric: 'failure_rate', condition: cond('<= 0'), scope: 'cell', when: { concurrency: '<= 10' } },
        { metric: 'failure_rate', condition: cond('< 0.4'), scope: 'cell', when: { concurrency: [50] } },
        { metric: 'silent_drops', condition: cond('== 0'), scope: 'overall' },
      ],
      summary,
    );
    assert.deepEqual(results.map((r) => [r.where, r.passed, r.actual]), [
      ['n=5', true, 0],
      ['n=50', false, 0.5],
      ['overall', false, 1],
    ]);
  });
});
