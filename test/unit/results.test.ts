import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { silentDrops, verifyDestination } from '../../src/verification/verify.js';
import { percentile, spread } from '../../src/report/statistics.js';
import { buildSummary } from '../../src/report/summary.js';
import { inFlight, inFlightWarning } from '../../src/report/in-flight.js';
import { checkThresholds } from '../../src/report/threshold-check.js';
import { renderSummaryTable } from '../../src/report/summary-table.js';
import { parseCondition } from '../../src/spec/thresholds.js';
import type { TransferRecord } from '../../src/records/transfer-record.js';
import type { ResultRecord } from '../../src/records/result-record.js';
import type { CellRecord } from '../../src/records/cell-record.js';
import { emptyCounters } from '../../src/records/sshd-events.js';

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

describe('loss first', () => {
  // A user's script skipped one file and said nothing: every transfer ok, one file never arrived.
  const records: ResultRecord[] = [
    transfer('a', 'ok', 'skip', 1), transfer('b', 'ok', 'skip', 1), transfer('c', 'ok', 'skip', 1), transfer('d', 'ok', 'skip', 1),
    { type: 'verification', cell: 'skip', repeat: 1, counts: { ok: 3, missing: 1, corrupt: 0, extra: 0 }, problems: [{ path: 'd', verdict: 'missing', expected_size: 3 }], silent_drops: ['d'] },
    cell('skip', 1, {}, { silent_drops: 1 }),
  ];
  const summary = buildSummary(records);

  it('counts files not intact at the destination as lost, whatever the tools said', () => {
    assert.deepEqual([summary.cells[0]!.lost, summary.cells[0]!.stats.loss_rate!.mean, summary.cells[0]!.stats.failure_rate!.mean], [1, 0.25, 0]);
    assert.deepEqual([summary.overall.lost, summary.overall.loss_rate, summary.overall.failure_rate], [1, 0.25, 0]);
  });

  it('leads the table with files lost and the loss rate, and says it first overall', () => {
    const table = renderSummaryTable(summary).split('\n');
    assert.match(table[0]!, /^cell +files +lost +loss rate +ok +failed +retried-ok +silent +failure rate /);
    assert.match(table[2]!, /^skip +4 +1 +25\.0% +4 +0 +0 +1 +0\.0% /);
    assert.match(table.at(-1)!, /^overall: 4 transfers, 1 lost \(25\.0%\): 0 failed \(0\.0%\), 1 silent drops; 4 ok, 0 recovered by retry$/);
  });

  it('judges loss_rate and lost thresholds, per cell and overall', () => {
    const cond = (t: string) => parseCondition(t) as Exclude<ReturnType<typeof parseCondition>, string>;
    const results = checkThresholds([{ metric: 'loss_rate', condition: cond('<= 0'), scope: 'cell' }, { metric: 'lost', condition: cond('== 0'), scope: 'overall' }, { metric: 'failure_rate', condition: cond('<= 0'), scope: 'cell' }], summary);
    assert.deepEqual(results.map((r) => [r.metric, r.where, r.passed, r.actual]), [['loss_rate', 'skip', false, 0.25], ['lost', 'overall', false, 1], ['failure_rate', 'skip', true, 0]]);
  });
});

describe('transfers in flight', () => {
  const attempt = (start_ms: number, end_ms: number) => ({ attempt: 1, start_ms, end_ms, exit_code: 0, signal: null, timed_out: false, classes: [], failure_class: null, stderr_tail: '' });
  const ran = (...spans: [number, number][]) => spans.map(([s, e], i) => ({ ...transfer(`f${i}`, 'ok'), start_ms: s, end_ms: e, attempts: [attempt(s, e)] }));

  it('takes the peak, the time-weighted median and the ramp to the N-th launch from attempt times', () => {
    // 0-10 one, 10-20 three, 20-100 two (the first ended at 20; back-to-back ends do not overlap).
    const f = inFlight(ran([0, 20], [10, 100], [10, 100], [20, 30]), 3);
    assert.deepEqual(f, { peak: 3, median: 2, target: 3, ramp_ms: 10, first_end_ms: 20, launch_lag_ms: null, asked_ms: null, ramp_load: null });
  });

  it('counts every attempt of a retried transfer and caps the target at the number of files', () => {
    const retried = { ...transfer('r', 'recovered'), attempts: [attempt(0, 5), attempt(50, 60)] };
    const f = inFlight([retried], 10);
    assert.equal(f.target, 1);
    assert.equal(f.peak, 1);
    assert.equal(f.ramp_ms, 0);
  });

  it('warns when a repeat stays well under its concurrency, and not when it reaches it', () => {
    const serial = ran(...Array.from({ length: 10 }, (_, i) => [i * 10, i * 10 + 10] as [number, number]));
    const f = inFlight(serial, 10);
    assert.equal(f.peak, 1);
    assert.equal(f.ramp_ms, 90);
    assert.match(inFlightWarning('c', 1, f)!, /at most 1 of 10 transfers were in flight .*launch 10 came 0\.09 s after the first, and the first had ended 0\.01 s after it\)/);
    assert.equal(inFlightWarning('c', 1, inFlight(ran(...Array.from({ length: 10 }, () => [0, 10] as [number, number])), 10)), undefined);
  });

  it('says what stopped the ramp: a launcher that forked late, or launches asked for late', () => {
    const lagged = (lag: number) => ran(...Array.from({ length: 10 }, (_, i) => [i * 10, i * 10 + 10] as [number, number])).map((t, i) => ({ ...t, attempts: [{ ...t.attempts[0]!, launch_lag_ms: i * lag }] }));
    assert.match(inFlightWarning('c', 1, inFlight(lagged(9), 10))!, /; the launcher forked them up to 0\.08 s after it was asked: this machine started them no faster\)/);
    assert.match(inFlightWarning('c', 1, inFlight(lagged(0.1), 10))!, /; the launcher forked each within 0\.00 s of being asked: they were asked for over that time\)/);
  });

  // Readings every 1000 ms: [t, busy, runnable, launcher cpu, launcher wait, harness cpu, harness wait].
  const load = (rows: number[][]) => ({ cores: 2, launcher: true, samples: rows });
  const starved = load([
    [0, 0, 1, 0, 0, 0, 0],
    [1000, 2000, 150, 10, 980, 50, 900],
    [2000, 4000, 120, 20, 1960, 60, 1800],
    [3000, 5000, 3, 30, 2000, 70, 1850],
  ]);
  const launches = (starts: number[], lag: number) => ran(...starts.map((s) => [s, s + 5000] as [number, number])).map((t) => ({ ...t, attempts: [{ ...t.attempts[0]!, launch_lag_ms: lag }] }));

  it('reads who had the CPU over the ramp, interpolating between readings', () => {
    const f = inFlight(launches([500, 1000, 1500, 2500], 2000), 4, starved);
    // Ramp 500 → 2500 ms: launcher CPU 5 → 25, wait 490 → 1980, harness wait 450 → 1825, busy 1000 → 4500 of 2 × 2000 ms.
    assert.deepEqual(f.ramp_load, { cores: 2, busy: 0.88, runnable_mean: 135, runnable_max: 150, launcher_cpu_ms: 20, launcher_wait_ms: 1490, launcher_cpu_per_launch_ms: 7.5, launcher_nice: null, launcher_group_nice: null, harness_wait_ms: 1375 });
    assert.equal(inFlight(launches([500, 1000, 1500, 2500], 0), 4, { ...starved, launcher: false }).ramp_load!.launcher_cpu_ms, null);
  });

  it('says a long ramp was the run queue when the launcher waited more than it worked, even at full concurrency', () => {
    const full = inFlight(launches([500, 1000, 1500, 2500], 2000), 4, starved);
    assert.equal(full.peak, 4);
    assert.match(inFlightWarning('c', 1, full)!, /^c \(repeat 1\): 4 of 4 transfers were in flight at once, but launch 4 came 2\.00 s after the first, .*launcher was on a CPU for 0\.02 s \(7\.50 ms per launch over the repeat\) and waited 1\.49 s for one, with the machine 88 % busy and up to 150 threads runnable on 2 cores: the ramp was mostly this machine's run queue, not the launcher's work$/);
    assert.match(inFlightWarning('c', 1, inFlight(launches([500, 1000, 1500, 2500], 2000), 4, { ...starved, launcher_nice: 0 }))!, /the launcher \(at nice 0: it could not raise its priority without CAP_SYS_NICE\) was on a CPU/);
    assert.match(inFlightWarning('c', 1, inFlight(launches([500, 1000, 1500, 2500], 2000), 4, { ...starved, launcher_nice: -20 }))!, /the launcher \(at nice -20\) was on a CPU/);
    const busyLauncher = load([[0, 0, 1, 0, 0, 0, 0], [3000, 5000, 2, 2500, 100, 0, 0]]);
    // Asked for at once (each waited in the launcher until its fork), or over the ramp (forked as asked).
    assert.match(inFlightWarning('c', 1, inFlight(launches([500, 1000, 1500, 2500], 2000), 4, busyLauncher))!, /the ramp was mostly the launcher's own work$/);
    const idle = load([[0, 0, 1, 0, 0, 0, 0], [3000, 5000, 2, 30, 20, 300, 900]]);
    assert.match(inFlightWarning('c', 1, inFlight(launches([500, 1000, 1500, 2500], 0), 4, idle))!, /the ramp was mostly the harness asking for them \(the last 2\.00 s after the first launch; its main thread waited 0\.60 s for a CPU\)$/);
    assert.equal(inFlightWarning('c', 1, inFlight(launches([0, 100, 200, 300], 0), 4, starved)), undefined, 'a short ramp at full concurrency says nothing');
  });

  it('appear in the summary per repeat, with the warning, from the recorded concurrency', () => {
    const records: ResultRecord[] = [
      ...ran([0, 100], [100, 200]).map((t) => ({ ...t, cell: 'slow' })),
      cell('slow', 1, {}, { files: 2, concurrency: 2 }),
    ];
    const s = buildSummary(records);
    const r = s.cells[0]!.repeats[0]!;
    assert.deepEqual([r.peak_in_flight, r.in_flight_target, r.ramp_ms], [1, 2, 100]);
    assert.equal(s.warnings.length, 1);
    assert.match(s.warnings[0]!, /^slow \(repeat 1\): at most 1 of 2/);
  });

  it('say when the kernel turned connections away at a full accept queue, which sshd never sees', () => {
    const records = (overflows?: number): ResultRecord[] => [...ran([0, 100]).map((t) => ({ ...t, cell: 'c' })), cell('c', 1, {}, { files: 1, concurrency: 1, ...(overflows === undefined ? {} : { listen_overflows: overflows }) })];
    const s = buildSummary(records(33));
    assert.equal(s.cells[0]!.repeats[0]!.listen_overflows, 33);
    assert.match(s.warnings.join('\n'), /^c \(repeat 1\): the kernel's accept queue overflowed 33 times/m);
    for (const quiet of [0, undefined]) assert.equal(buildSummary(records(quiet)).warnings.length, 0);
    assert.equal(buildSummary(records()).cells[0]!.repeats[0]!.listen_overflows, null);
  });
});

describe('MaxStartups drops, client against sshd', () => {
  // The records here have no transfers: only the drop warnings are this test's.
  const dropWarnings = (w: string[]) => w.filter((x) => x.startsWith('MaxStartups drops'));
  const agree = { sshd: 3, client: 3, by_port: 3, by_count: 0, classed_otherwise: 0, not_transfers: 0 };
  it('say nothing when sshd backs every drop the clients saw', () => {
    const s = buildSummary([cell('c', 1, {}, { files: 0, drops: { hosts: { t: agree }, reclassified: 0, unchecked: 0 } })]);
    assert.deepEqual(dropWarnings(s.warnings), []);
  });

  it('warn by how much and why when they differ', () => {
    const drops = { hosts: { t: { ...agree, sshd: 5, classed_otherwise: 1, not_transfers: 1 } }, reclassified: 2, unchecked: 0 };
    const s = buildSummary([cell('c', 1, {}, { files: 0, drops })]);
    assert.deepEqual(dropWarnings(s.warnings), [
      "MaxStartups drops in c (repeat 1): sshd logged 5, the clients saw 3 that it backs; 2 more attempts looked dropped but sshd logged no drop of them (each attempt's reclassified says why); 1 dropped connections' attempts were classed by an earlier cause; 1 dropped connections were no transfer's (the harness's own, or a mux master's)",
    ]);
    assert.equal(s.cells[0]!.repeats[0]!.client_maxstartups_drops, 3);
  });
});
