import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isolatedStateBase, leftovers, readJsonl, removeAll, runCli, scenarioPath, tempDir, waitForRecords, writeScenario } from '../helpers/harness.js';

type Rec = Record<string, unknown>;
const ofType = (records: Rec[], type: string) => records.filter((r) => r.type === type);
/** The last invariants check of each cell repeat (finalize checks again after the run). */
const latestInvariants = (records: Rec[]) => [...new Map(ofType(records, 'invariants').map((r) => [`${String(r.cell)}#${String(r.repeat)}`, r])).values()];
const violations = (records: Rec[]) => latestInvariants(records).flatMap((r) => r.violations as Rec[]);

/** A pipeline long enough to be killed in each step: stage-in one file at a time, a 1 s compute, stage-out under temp names. */
const RESUMABLE = `name: resumable
hosts:
  head: {}
  user: {}
dataset: { files: 16, size: 32KiB }
pipeline:
  ranks: 8
  strategy: per-file
  stage_in: { from: user, via: [head], concurrency: 2 }
  compute: { run: "sleep:1s" }
  stage_out: { to: user, via: [head], commit: temp-rename, concurrency: 2 }
`;

describe('staging pipeline', () => {
  let base: string;
  let dir: string;
  const env = () => ({ XFERBENCH_STATE_DIR: base });
  beforeAll(async () => {
    base = await isolatedStateBase('pipeline');
    dir = await tempDir('pipeline');
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base, dir);
  });

  it('a clean pipeline: every rank stages in, computes and stages out in order, outputs verified, invariants hold', async () => {
    const out = join(dir, 'clean');
    const scenario = await writeScenario(dir, 'clean', RESUMABLE.replace('sleep:1s', 'transform').replace(/, concurrency: 2/g, ''));
    const r = await runCli(['run', scenario, '--out', out, '-q', '--keep-state'], env());
    assert.equal(r.exitCode, 0, String(r.stderr));
    const records = await readJsonl(join(out, 'results.jsonl'));
    const steps = ofType(records, 'step');
    assert.equal(steps.length, 8 * 3, 'a record per rank and step');
    for (let rank = 0; rank < 8; rank++) {
      const [sin, comp, sout] = (['stage_in', 'compute', 'stage_out'] as const).map((s) => steps.find((x) => x.rank === rank && x.step === s)!);
      for (const s of [sin, comp, sout]) assert.equal(s!.status, 'ok', JSON.stringify(s));
      // afterok: each step starts only once the one before it ended.
      assert.ok((comp!.start_ms as number) >= (sin!.end_ms as number) && (sout!.start_ms as number) >= (comp!.end_ms as number), `rank ${rank} in order`);
    }
    const verification = ofType(records, 'verification')[0]!;
    assert.deepEqual(verification.counts, { ok: 16, missing: 0, corrupt: 0, extra: 0 });
    assert.deepEqual(violations(records), []);
    assert.deepEqual(latestInvariants(records)[0]!.ranks, { ok: 8, failed: 0, cleaned: 0 });
    // temp-rename restored the source's mode and mtime: invariant 3 held, and a file shows it.
    const state = JSON.parse(await readFile(join(out, 'staging', 'c0r1', 'state', 'rank-3.json'), 'utf8'));
    const f = state.files[0];
    assert.equal(f.status, 'final');
    // utimes takes a double of seconds: equal to within 2 µs (docs/pipeline.md). State files keep
    // paths relative to their cell repeat's folder.
    assert.equal(f.final, join('hosts', 'user', 'outputs', f.final.split('/').at(-1)));
    const off = Number((await stat(join(out, 'staging', 'c0r1', f.final), { bigint: true })).mtimeNs - BigInt(f.mtime_ns));
    assert.ok(Math.abs(off) < 2000, `mtime ${off} ns from the source's`);
    assert.equal(existsSync(join(out, 'staging', 'c0r1', 'hosts', 'user', 'outputs', '.xb-partial')), false, 'no temporary folder left');
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    assert.deepEqual(summary.pipeline.steps.map((s: Rec) => `${String(s.step)}:${String(s.ok)}`), ['stage_in:8', 'compute:8', 'stage_out:8']);
    const html = await readFile(join(out, 'report.html'), 'utf8');
    assert.match(html, /Pipeline steps/);
    assert.match(html, /All four invariants held/);
    assert.match(html, /Steps per rank, default/);
  });

  it('compute failures: their stage-out is skipped (afterok), cleanup runs for them only (afternotok), nothing partial remains', async () => {
    const out = join(dir, 'failures');
    const r = await runCli(['run', scenarioPath('pipeline-failures'), '--out', out, '-q', '--keep-state'], env());
    assert.equal(r.exitCode, 0, String(r.stderr));
    const records = await readJsonl(join(out, 'results.jsonl'));
    const steps = ofType(records, 'step');
    assert.ok(steps.filter((s) => s.step === 'stage_in').every((s) => s.status === 'ok'), 'every rank staged in');
    const failed = steps.filter((s) => s.step === 'compute' && s.status === 'failed').map((s) => s.rank as number).sort((a, b) => a - b);
    assert.ok(failed.length >= 1 && failed.length < 16, `a seeded share of 16 ranks fails: ${failed.join(',')}`);
    assert.ok(steps.filter((s) => s.step === 'compute' && s.status === 'failed').every((s) => s.failure_class === 'compute_failed'));
    const skipped = steps.filter((s) => s.step === 'stage_out' && s.status === 'skipped');
    assert.deepEqual(skipped.map((s) => s.rank as number).sort((a, b) => a - b), failed);
    assert.ok(skipped.every((s) => s.waited_on === 'compute'), 'stage-out waited on compute');
    const cleaned = steps.filter((s) => s.step === 'cleanup').map((s) => s.rank as number).sort((a, b) => a - b);
    assert.deepEqual(cleaned, failed, 'cleanup ran exactly for the failed ranks');
    assert.deepEqual(violations(records), []);
    const v = ofType(records, 'verification')[0]! as { counts: Record<string, number>; problems: Rec[] };
    // Every output of a rank that succeeded arrived; a failed rank left none, partial or whole.
    assert.equal(v.counts.corrupt, 0);
    assert.equal(v.counts.extra, 0);
    assert.ok(v.problems.every((p) => p.verdict === 'missing'));
    const outputs = join(out, 'staging', 'c0r1', 'hosts', 'user', 'outputs');
    for (const rank of failed) assert.equal(existsSync(join(outputs, 'timestep.0', `data.${rank}`)), false, `rank ${rank} left no output`);
    const workers = await readdir(join(out, 'staging', 'c0r1', 'workers', `rank-${failed[0]}`));
    assert.deepEqual(workers, [], 'the failed rank\'s worker folders are gone');
    assert.match(String(ofType(records, 'step').find((s) => s.step === 'cleanup')!.reason), /^compute failed \(compute_failed\)/);
  });

  it('strategies under MaxStartups 10:30:100: batching opens fewer connections through the head, so sshd drops fewer', async () => {
    const out = join(dir, 'strategies');
    const scenario = await writeScenario(dir, 'strategies', `name: strategies
hosts:
  head: { sshd: { MaxStartups: "10:30:100" } }
  user: { sshd: { MaxStartups: "1000" } }
dataset: { files: 128, size: 16KiB }
pipeline:
  ranks: 32
  stage_in: { from: user, via: [head] }
matrix:
  pipeline.strategy: [per-file, "batch:4"]
`);
    const r = await runCli(['run', scenario, '--out', out, '-q'], env());
    const records = await readJsonl(join(out, 'results.jsonl'));
    const cells = ofType(records, 'cell') as { cell: string; sshd: Record<string, { maxstartups_drops: number }>; failed: number }[];
    const drops = (id: string) => cells.find((c) => c.cell === id)!.sshd.head!.maxstartups_drops;
    const perFile = drops('pipeline.strategy=per-file');
    const batched = drops('pipeline.strategy=batch:4');
    assert.ok(perFile > batched, `per-file ${perFile} drops, batch:4 ${batched}`);
    const steps = ofType(records, 'step');
    assert.equal(steps.filter((s) => s.cell === 'pipeline.strategy=per-file').reduce((n, s) => n + (s.invocations as number), 0), 128, 'one invocation per file');
    assert.equal(steps.filter((s) => s.cell === 'pipeline.strategy=batch:4').reduce((n, s) => n + (s.invocations as number), 0), 32, 'one per rank (4 files each)');
    // A drop fails its rank's stage-in (no retries), which the run reports, not hides.
    const failedRanks = steps.filter((s) => s.status === 'failed').length;
    assert.ok(failedRanks > 0 && steps.filter((s) => s.status === 'failed').every((s) => s.failure_class === 'maxstartups_drop'), `${failedRanks} ranks failed, each by a drop`);
    assert.deepEqual(violations(records), [], 'a dropped rank leaves nothing partial');
    assert.equal(r.exitCode, 0, String(r.stderr));
  });

  it('checkpoint-finalize: the run leaves temporaries; finalize renames them into place with their metadata; a second finalize changes nothing', async () => {
    const out = join(dir, 'checkpoint');
    const r = await runCli(['run', scenarioPath('checkpoint-finalize'), '--out', out, '-q'], env());
    assert.equal(r.exitCode, 0, String(r.stderr));
    const outputs = join(out, 'staging', 'c0r1', 'hosts', 'pfs', 'outputs');
    const temps = (await readdir(join(outputs, '.xb-partial'), { recursive: true, withFileTypes: true })).filter((e) => e.isFile());
    assert.equal(temps.length, 34, 'every rank left its temporaries');
    assert.equal(existsSync(join(outputs, 'timestep.0.root')), false, 'nothing is in place before finalize');
    const before = await readJsonl(join(out, 'results.jsonl'));
    assert.equal(latestInvariants(before)[0]!.pending_finalize, 34);
    const first = await runCli(['finalize', out, '--json'], env());
    assert.equal(first.exitCode, 0, String(first.stderr));
    const done = JSON.parse(String(first.stdout));
    assert.equal(done.ranks.reduce((n: number, x: Rec) => n + (x.finalized as number), 0), 34);
    assert.equal(existsSync(join(outputs, '.xb-partial')), false, 'no temporary left');
    assert.ok(existsSync(join(outputs, 'timestep.1', 'data.15')));
    const states = async () => Promise.all((await readdir(join(out, 'staging', 'c0r1', 'state'))).filter((f) => f.endsWith('.json')).sort().map((f) => readFile(join(out, 'staging', 'c0r1', 'state', f), 'utf8')));
    const afterFirst = await states();
    const second = await runCli(['finalize', out, '--json'], env());
    assert.equal(second.exitCode, 0, String(second.stderr));
    const again = JSON.parse(String(second.stdout));
    assert.equal(again.ranks.reduce((n: number, x: Rec) => n + (x.finalized as number) + (x.removed as number), 0), 0, 'idempotent: nothing left to do');
    assert.deepEqual(await states(), afterFirst, 'state files unchanged by the second run');
    const records = await readJsonl(join(out, 'results.jsonl'));
    assert.deepEqual(violations(records), []);
    assert.equal(latestInvariants(records)[0]!.pending_finalize, 0);
    assert.match(await readFile(join(out, 'report.html'), 'utf8'), /All four invariants held/);
  });

  it('finalize after a run killed mid-transfer: landed files committed, unfinished temporaries deleted, unfinished ranks named', async () => {
    const out = join(dir, 'killed-finalize');
    const scenario = await writeScenario(dir, 'killed-finalize', `name: killed-finalize
hosts:
  pfs: {}
dataset: { files: 40, size: 256KiB }
pipeline:
  ranks: 8
  stage_out: { to: pfs, strategy: per-file, commit: temp-rename, finalize: defer, concurrency: 2 }
`);
    const child = runCli(['run', scenario, '--out', out, '-q'], env(), { detached: true });
    await waitForRecords(join(out, 'results.jsonl'), 'transfer', 6, 60_000);
    process.kill(-child.pid!, 'SIGKILL');
    await child;
    const r = await runCli(['finalize', out, '--json'], env());
    const done = JSON.parse(String(r.stdout));
    const finalized = done.ranks.reduce((n: number, x: Rec) => n + (x.finalized as number), 0);
    assert.ok(finalized >= 6 && finalized < 40, `${finalized} landed files committed`);
    const outputs = join(out, 'staging', 'c0r1', 'hosts', 'pfs', 'outputs');
    assert.equal(existsSync(join(outputs, '.xb-partial')), false, 'every temporary deleted, a killed rsync\'s own too');
    const v = violations(await readJsonl(join(out, 'results.jsonl')));
    // What is in place is whole (1), no temporary is left (2), metadata holds (3); the ranks the kill stopped are named (4).
    assert.ok(v.length > 0 && v.every((x) => x.invariant === 4 && /never finished stage_out/.test(String(x.detail))), JSON.stringify(v));
    assert.equal(r.exitCode, 1, 'unfinished ranks fail the check');
    // Its sshd is still up: the next run (or clean) reaps it.
    assert.equal((await runCli(['clean'], env())).exitCode, 0);
  });

  /** Where to stop the harness, and how to know it got there. */
  const KILL_POINTS = [
    ['during stage-in', (out: string) => waitForRecords(join(out, 'results.jsonl'), 'transfer', 3, 60_000, '"step":"stage_in"')],
    ['during compute', async (out: string) => {
      const state = join(out, 'staging', 'c0r1', 'state');
      for (const deadline = Date.now() + 60_000; Date.now() < deadline; await sleep(50)) {
        if ((await readdir(state).catch(() => [])).some((f) => f.endsWith('.compute.log'))) return;
      }
      throw new Error('no compute started');
    }],
    ['during stage-out', (out: string) => waitForRecords(join(out, 'results.jsonl'), 'transfer', 1, 90_000, '"step":"stage_out"')],
  ] as const;

  for (const [name, reached] of KILL_POINTS) {
    it(`resume after SIGKILL ${name}: the run finishes, no finished step runs twice, all invariants hold`, async () => {
      const out = join(dir, `resume-${name.replace(/\W+/g, '-')}`);
      const scenario = await writeScenario(dir, 'resumable', RESUMABLE);
      const child = runCli(['run', scenario, '--out', out, '-q'], env(), { detached: true });
      await reached(out);
      process.kill(-child.pid!, 'SIGKILL');
      await child;
      const before = await readJsonl(join(out, 'results.jsonl'));
      assert.equal(ofType(before, 'cell').length, 0, 'killed before the repeat ended');
      assert.ok((await leftovers(base)).length > 0, 'the dead run\'s sshd hosts are still up');
      const r = await runCli(['resume', out], env());
      assert.equal(r.exitCode, 0, String(r.stderr));
      assert.match(String(r.stderr), /reaped [1-9]\d* process\(es\)/, 'resume stopped them first');
      const records = await readJsonl(join(out, 'results.jsonl'));
      assert.equal(ofType(records, 'run_resume').length, 1);
      assert.equal(records.at(-1)!.outcome, 'completed');
      // No step of a rank ended twice: what finished before the kill was not redone.
      const ended = ofType(records, 'step').map((s) => `${String(s.rank)}:${String(s.step)}`);
      assert.equal(new Set(ended).size, ended.length, `each rank's step recorded once: ${ended.join(' ')}`);
      assert.equal(ended.length, 8 * 3);
      assert.ok(ofType(records, 'step').every((s) => s.status === 'ok'));
      const logs = join(out, 'staging', 'c0r1', 'state');
      for (let rank = 0; rank < 8; rank++) {
        const lines = (await readFile(join(logs, `rank-${rank}.compute.log`), 'utf8')).split('\n').filter((l) => l.startsWith('end'));
        assert.equal(lines.length, 1, `rank ${rank} computed to the end once`);
      }
      assert.deepEqual(violations(records), []);
      const v = ofType(records, 'verification')[0]! as { counts: Record<string, number> };
      assert.equal(v.counts.ok, 16, 'every output delivered');
      // One clock: what the resumed run did comes after what was recorded before the kill (a step
      // record the kill lost is written from the state file, with its own earlier times).
      const lastBefore = Math.max(...before.flatMap((r) => (r.type === 'transfer' || r.type === 'step' ? [r.end_ms as number] : [])), 0);
      assert.ok(ofType(records.slice(before.length), 'transfer').every((t) => (t.start_ms as number) > lastBefore));
      assert.deepEqual(await leftovers(base), []);
    });
  }

  it('resume of a completed run does nothing; resume of a transfer scenario is refused', async () => {
    const r = await runCli(['resume', join(dir, 'clean')], env());
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.match(String(r.stdout), /the run completed; nothing to resume/);
    const t = await writeScenario(dir, 'transfer', 'name: t\nhosts: { target: {} }\ndataset: { files: 2, size: 1KiB }\ntransfer: { to: target }\n');
    const out = join(dir, 'transfer-run');
    const child = runCli(['run', t, '--out', out, '-q', '--set', 'dataset.files=400'], env(), { detached: true });
    await waitForRecords(join(out, 'results.jsonl'), 'transfer', 1, 60_000);
    process.kill(-child.pid!, 'SIGKILL');
    await child;
    const refused = await runCli(['resume', out], env());
    assert.equal(refused.exitCode, 2);
    assert.match(String(refused.stderr), /resume continues pipeline runs/);
    await runCli(['clean'], env());
  });
});
