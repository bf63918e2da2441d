import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { loadScenario } from '../../src/plan/load-plan.js';
import { runScenario, type RunResult } from '../../src/run/run-scenario.js';
import { readResults } from '../../src/report/report-dir.js';
import type { TransferRecord } from '../../src/records/transfer-record.js';
import type { StepRecord } from '../../src/records/pipeline-records.js';
import type { CellRecord } from '../../src/records/cell-record.js';
import { isolatedStateBase, leftovers, removeAll, scenarioPath, tempDir } from '../helpers/harness.js';

/**
 * The seed scenarios at small sizes. Drops are random by design, so these assert what must hold
 * qualitatively (where drops appear, how they are classified, that sshd agrees), not exact counts.
 */
describe('seed scenarios', () => {
  let base: string;
  let reports: string;
  let runs = 0;
  beforeAll(async () => {
    base = await isolatedStateBase('seeds');
    process.env.XFERBENCH_STATE_DIR = base;
    reports = await tempDir('seeds');
  });
  afterAll(async () => {
    delete process.env.XFERBENCH_STATE_DIR;
    assert.deepEqual(await leftovers(base), [], 'no sshd or ssh master may outlive a run');
    await removeAll(base, reports);
  });

  async function run(name: string, sets: string[]): Promise<{ result: RunResult; transfers: TransferRecord[] }> {
    const result = await runScenario(await loadScenario(scenarioPath(name), ['dataset.size=16KiB', 'repeat=1', ...sets]), { outDir: join(reports, `${name}-${++runs}`) });
    const transfers = (await readResults(result.reportDir)).filter((r): r is TransferRecord => r.type === 'transfer');
    return { result, transfers };
  }
  const cell = (r: RunResult, id: string) => {
    const c = r.summary.cells.find((x) => x.cell === id);
    assert.ok(c, `cell ${id} in ${r.summary.cells.map((x) => x.cell).join(', ')}`);
    return c;
  };

  it('maxstartups: no drops up to MaxStartups start, classified drops above it, matching sshd', async () => {
    const { result, transfers } = await run('maxstartups', ['dataset.files=60', 'matrix.concurrency=[10,60]']);
    assert.equal(cell(result, 'concurrency=10').failed, 0);
    const high = cell(result, 'concurrency=60');
    assert.ok(high.failed > 0, 'drops above MaxStartups start');
    const failed = transfers.filter((t) => t.cell === 'concurrency=60' && t.status === 'failed');
    assert.deepEqual([...new Set(failed.map((t) => t.failure_class))], ['maxstartups_drop']);
    assert.equal(high.repeats[0]!.sshd_maxstartups_drops, failed.length, "sshd's own drop count equals the client-side count");
    // Not only the counts: each drop sshd logged is the one a client saw, by the client's port.
    const cells = (await readResults(result.reportDir)).filter((x): x is CellRecord => x.type === 'cell' && x.cell === 'concurrency=60');
    assert.deepEqual(cells.map((c) => c.drops!.hosts.target), [{ sshd: failed.length, client: failed.length, by_port: failed.length, by_count: 0, classed_otherwise: 0, not_transfers: 0 }]);
    assert.ok(failed.every((t) => t.attempts[0]!.connections?.length === 1), 'every attempt reports its connection');
    assert.equal(result.summary.overall.silent_drops, 0);
    assert.equal(result.exitCode, 0, JSON.stringify(result.thresholds));
  });

  it('mux: cold races, warm above MaxSessions is refused, warm at MaxSessions-1 is clean', async () => {
    // Sessions over a master overlap less than the rsync processes do: unthrottled, a warm cell at
    // 30 saw 0 or 1 refusals. --bwlimit=8 holds each 16 KiB session open for about 2 s, so the
    // first 10 sessions are certainly still open when the other 10 of the same launch ask for theirs.
    const { result, transfers } = await run('mux', ['dataset.files=20', 'transfer.rsync_args=[--bwlimit=8]']);
    const classesIn = (id: string) => transfers.filter((t) => t.cell === id).flatMap((t) => t.classes);
    assert.ok(classesIn('mux=cold,concurrency=30').includes('mux_race'), 'cold start-up race seen');
    assert.ok(classesIn('mux=warm,concurrency=30').includes('maxsessions_refused'), 'MaxSessions refusals over a warm master');
    assert.deepEqual(classesIn('mux=warm,concurrency=9'), [], 'MaxSessions-1 over a warm master: nothing refused');
    assert.equal(cell(result, 'mux=warm,concurrency=9').failed, 0);
    assert.equal(result.summary.overall.silent_drops, 0);
    // sshd's own count of refused sessions ("no more sessions") agrees with what the clients saw.
    const refusedByClients = transfers.filter((t) => t.cell === 'mux=warm,concurrency=30' && t.classes.includes('maxsessions_refused')).length;
    assert.ok(cell(result, 'mux=warm,concurrency=30').repeats[0]!.sshd_sessions_refused! >= refusedByClients && refusedByClients > 0);
    assert.equal(cell(result, 'mux=warm,concurrency=9').repeats[0]!.sshd_sessions_refused, 0);
  });

  it("jump: the head's MaxStartups drops transfers the target would accept", async () => {
    const { result } = await run('jump', ['dataset.files=40']);
    const limited = cell(result, 'hosts.head.sshd.MaxStartups=10:30:100');
    assert.ok(limited.failed > 0);
    assert.deepEqual(Object.keys(limited.classes), ['maxstartups_drop']);
    const r = result.summary.cells[0]!.repeats[0]!;
    assert.equal(r.sshd_maxstartups_drops, limited.failed, 'every drop is logged by an sshd');
    const cells = (await readResults(result.reportDir)).filter((x): x is CellRecord => x.type === 'cell');
    for (const c of cells) assert.equal(c.sshd.target!.maxstartups_drops, 0, `${c.cell}: the target itself dropped nothing`);
    assert.equal(cells.find((c) => c.cell === limited.cell)!.sshd.head!.maxstartups_drops, limited.failed, 'the head dropped them all');
    // The first hop's connection is the client's own: matched by port, through the connector.
    assert.equal(cells.find((c) => c.cell === limited.cell)!.drops!.hosts.head!.by_port, limited.failed);
    assert.equal(cell(result, 'hosts.head.sshd.MaxStartups=1000').failed, 0);
    assert.equal(result.exitCode, 0);
  });

  it('limits-raised: MaxStartups and MaxSessions at 1000 let 100 concurrent rsyncs through, 100 really at once', async () => {
    // Starting 100 at once saturates two cores (ssh, sshd's handshakes, the connectors): the
    // launcher forked the 100th 12.5 s after it was asked on an idle machine, and 4 s of hold was
    // not enough (a fresh-clone run saw 82 at once). 48 KiB at --bwlimit=1 holds each transfer
    // open about 48 s once its data flows, four times that, so the first are still running when
    // the last start.
    const { result, transfers } = await run('limits-raised', ['dataset.size=48KiB', 'transfer.rsync_args=[--bwlimit=1]']);
    const c = cell(result, 'default');
    assert.equal(c.files, 100);
    assert.equal(c.failed, 0);
    assert.equal(c.repeats[0]!.sshd_maxstartups_drops, 0);
    assert.equal(result.exitCode, 0);
    // Counted here from the records, not from the summary: most attempts running at one instant.
    const edges = transfers.flatMap((t) => t.attempts.flatMap((a) => [[a.start_ms, 1], [a.end_ms, -1]] as const)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let running = 0;
    let peak = 0;
    for (const [, d] of edges) peak = Math.max(peak, (running += d));
    // The pool asked for all 100 at once; how fast the machine started them is the launch lag.
    const asked = transfers.flatMap((t) => t.attempts.map((a) => a.start_ms - (a.launch_lag_ms ?? 0)));
    assert.ok(Math.max(...asked) - Math.min(...asked) < 1000, 'every launch was asked for within a second');
    assert.ok(peak >= 90, `at least 90 of 100 transfers in flight at once; the records show ${peak}`);
    assert.equal(c.repeats[0]!.peak_in_flight, peak);
    assert.deepEqual(result.summary.warnings, []);
  });

  it('a small concurrency is reached as well: 20 files at 20', async () => {
    // About 16 s of hold (--bwlimit=1) against about 2.5 s to start 20 (100 took 12.5 s).
    const { result } = await run('limits-raised', ['dataset.files=20', 'transfer.concurrency=20', 'transfer.rsync_args=[--bwlimit=1]']);
    assert.equal(cell(result, 'default').repeats[0]!.in_flight_target, 20);
    assert.ok(cell(result, 'default').repeats[0]!.peak_in_flight >= 18, `peak ${cell(result, 'default').repeats[0]!.peak_in_flight} of 20`);
  });

  it('pipeline-v1: per-file opens a connection per file through the head, batching one per rank; every rank dropped is cleaned up, nothing partial anywhere', async () => {
    const { result } = await run('pipeline-v1', []);
    const records = await readResults(result.reportDir);
    const steps = records.filter((r): r is StepRecord => r.type === 'step');
    const invocations = (id: string) => steps.filter((s) => s.cell === id && s.step === 'stage_in').reduce((n, s) => n + (s.invocations ?? 0), 0);
    assert.equal(invocations('pipeline.strategy=per-file'), 66);
    assert.equal(invocations('pipeline.strategy=batch:8'), 32);
    assert.equal(invocations('pipeline.strategy=tree'), 32);
    // 32 ranks start at once against a head at MaxStartups 10:30:100: some are dropped.
    const drops = (records.filter((r) => r.type === 'cell') as CellRecord[]).reduce((n, c) => n + c.sshd.head!.maxstartups_drops, 0);
    assert.ok(drops > 0, 'the head dropped connection starts');
    const failed = steps.filter((s) => s.status === 'failed');
    assert.ok(failed.every((s) => s.failure_class === 'maxstartups_drop'), JSON.stringify(failed.map((s) => s.failure_class)));
    const key = (s: StepRecord) => `${s.cell}#${s.rank}`;
    assert.deepEqual(new Set(steps.filter((s) => s.step === 'cleanup').map(key)), new Set(failed.map(key)), 'cleanup for exactly the failed ranks');
    assert.deepEqual(result.summary.pipeline!.violations, []);
    assert.equal(result.exitCode, 0);
  });
});
