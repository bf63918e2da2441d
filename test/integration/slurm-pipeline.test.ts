import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { endedBy, isolatedStateBase, leftovers, processesMentioning, readJsonl, removeAll, runCli, tempDir, waitForRecords, writeScenario } from '../helpers/harness.js';
import { slurmDaemons as daemons, slurmOrSkip } from '../helpers/slurm.js';

const { skip } = await slurmOrSkip();

const RANKS = 6;
/** V1 as batch jobs; the user's host offers only aes128/256-ctr, so asking for chacha20 fails every stage-in. */
const V1 = `name: v1
executor: slurm
slurm: { nodes: 3, tasks_per_node: 3 }
hosts:
  head: { sshd: { MaxStartups: "100:30:200" } }
  user: { sshd: { MaxStartups: "100:30:200", Ciphers: "aes128-ctr,aes256-ctr" } }
dataset: { files: ${2 * RANKS + 2}, size: 32KiB, layout: timestep, ranks: ${RANKS} }
pipeline:
  ranks: ${RANKS}
  strategy: tree
  stage_in: { from: user, via: [head] }
  compute: { run: "sleep:1500ms" }
  stage_out: { to: user, via: [head], commit: temp-rename }
  on_failure: cleanup
`;

type Rec = Record<string, unknown>;
const ofType = (records: Rec[], type: string) => records.filter((r) => r.type === type);
const stepOf = (records: Rec[], cell: string, rank: number, step: string) => records.find((r) => r.type === 'step' && r.cell === cell && r.rank === rank && r.step === step)!;
const violations = (records: Rec[]) => ofType(records, 'invariants').flatMap((r) => r.violations as unknown[]);

describe.skipIf(skip !== undefined)(`pipeline steps as Slurm batch jobs${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let base: string;
  let dir: string;
  const env = () => ({ XFERBENCH_STATE_DIR: base });
  beforeAll(async () => {
    base = await isolatedStateBase('slurm-pipeline');
    dir = await tempDir('slurm-pipeline');
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    assert.deepEqual(await daemons(), [], 'no Slurm daemon left');
    await removeAll(base, dir);
  });

  it('A and B: afterok chains stage-in → compute → stage-out; a failed stage-in has Slurm cancel both (skipped) and run cleanup (afternotok); job ids recorded', async () => {
    const out = join(dir, 'ab');
    const scenario = await writeScenario(dir, 'ab', `${V1}matrix:\n  pipeline.stage_in.ssh_options.Ciphers: [aes128-ctr, chacha20-poly1305@openssh.com]\n`);
    const r = await runCli(['run', scenario, '--out', out, '-q'], env());
    assert.equal(r.exitCode, 0, String(r.stderr));
    const records = await readJsonl(join(out, 'results.jsonl'));
    const [a, b] = ['pipeline.stage_in.ssh_options.Ciphers=aes128-ctr', 'pipeline.stage_in.ssh_options.Ciphers=chacha20-poly1305@openssh.com'];
    const ids = new Set<unknown>();
    for (let rank = 0; rank < RANKS; rank++) {
      // A: each step a job of its own, each afterok on the one before; cleanup's afternotok never met.
      const [sin, comp, sout, clean] = (['stage_in', 'compute', 'stage_out', 'cleanup'] as const).map((s) => stepOf(records, a, rank, s));
      assert.deepEqual([sin, comp, sout].map((s) => s!.status), ['ok', 'ok', 'ok'], `A rank ${rank}`);
      assert.match(String(sin!.job_id), /^\d+$/);
      assert.equal(sin!.dependency, undefined);
      assert.equal(comp!.dependency, `afterok:${String(sin!.job_id)}`);
      assert.equal(sout!.dependency, `afterok:${String(comp!.job_id)}`);
      assert.ok((comp!.start_ms as number) >= (sin!.end_ms as number) && (sout!.start_ms as number) >= (comp!.end_ms as number), 'each job after the one it depends on');
      assert.match(String(sin!.node), /^n[123]$/);
      assert.equal(clean!.status, 'skipped');
      assert.equal(clean!.dependency, `afternotok:${String(sin!.job_id)}?afternotok:${String(comp!.job_id)}?afternotok:${String(sout!.job_id)}`);
      // B: stage-in failed (no cipher in common); Slurm cancelled what waited on it; cleanup ran.
      const [bin, bcomp, bout, bclean] = (['stage_in', 'compute', 'stage_out', 'cleanup'] as const).map((s) => stepOf(records, b, rank, s));
      assert.equal(bin!.status, 'failed');
      assert.equal(bin!.failure_class, 'negotiation');
      assert.deepEqual([bcomp!.status, bcomp!.waited_on, bcomp!.dependency], ['skipped', 'stage_in', `afterok:${String(bin!.job_id)}`]);
      assert.deepEqual([bout!.status, bout!.waited_on, bout!.dependency], ['skipped', 'compute', `afterok:${String(bcomp!.job_id)}`]);
      assert.equal(bclean!.status, 'ok');
      assert.match(String(bclean!.reason), /^stage_in failed \(negotiation\)/, 'the cleanup job found what failed in the state file');
      assert.ok((bclean!.start_ms as number) >= (bin!.end_ms as number));
      for (const s of [sin, comp, sout, clean, bin, bcomp, bout, bclean]) ids.add(s!.job_id);
    }
    assert.equal(ids.size, RANKS * 8, 'one job per step, ids unique');
    assert.equal(ofType(records, 'step').length, RANKS * 8, 'each step recorded once');
    const verified = ofType(records, 'verification') as { cell: string; counts: Record<string, number> }[];
    assert.equal(verified.find((v) => v.cell === a)!.counts.ok, 2 * RANKS + 2, 'A delivered every output');
    assert.equal(verified.find((v) => v.cell === b)!.counts.ok, 0, 'B delivered nothing');
    assert.deepEqual(violations(records), []);
    assert.match(String(r.stdout), /invariants: all held; ranks 6 ok, 0 failed, 6 cleaned up/);
    assert.deepEqual(await daemons(), [], 'the cluster stopped with the run');
  });

  it('D: the queue lost mid-run stops it (exit 3, nothing left running); resume resubmits only what did not finish: no step twice, invariants hold', async () => {
    const out = join(dir, 'd');
    const scenario = await writeScenario(dir, 'd', `${V1}faults: [{ kind: queue_loss, at: "50%" }]\n`);
    const lost = await runCli(['run', scenario, '--out', out, '-q'], env());
    assert.equal(lost.exitCode, 3, String(lost.stderr));
    assert.match(String(lost.stderr), /the queue was lost; `xferbench resume .*` resubmits only what did not finish/);
    assert.deepEqual(await daemons(), []);
    assert.deepEqual(await leftovers(base), []);
    const before = await readJsonl(join(out, 'results.jsonl'));
    assert.equal(ofType(before, 'fault_start').length, 1);
    const endedBefore = ofType(before, 'step');
    assert.ok(endedBefore.length > 0 && endedBefore.length < RANKS * 4, `some steps ended before the loss, not all: ${endedBefore.length}`);

    const r = await runCli(['resume', out], env());
    assert.equal(r.exitCode, 0, String(r.stderr));
    const records = await readJsonl(join(out, 'results.jsonl'));
    assert.equal(records.at(-1)!.outcome, 'completed');
    assert.equal(ofType(records, 'fault_start').length, 1, 'the resumed repeat runs without its fault');
    const steps = ofType(records, 'step');
    const keys = steps.map((s) => `${String(s.rank)}:${String(s.step)}`);
    assert.equal(new Set(keys).size, keys.length, `each rank's step recorded once: ${keys.join(' ')}`);
    assert.equal(steps.length, RANKS * 4);
    // What ended before the loss kept its job (of the first cluster); the rest ran as new jobs, numbered on.
    const firstIds = Math.max(...endedBefore.map((s) => Number(s.job_id)));
    for (const s of steps.slice(endedBefore.length)) assert.ok(Number(s.job_id) > firstIds, `resubmitted: ${String(s.step)} of rank ${String(s.rank)} is job ${String(s.job_id)}`);
    for (let rank = 0; rank < RANKS; rank++) {
      const log = (await readFile(join(out, 'staging', 'c0r1', 'state', `rank-${rank}.compute.log`), 'utf8')).split('\n');
      assert.equal(log.filter((l) => l.startsWith('end')).length, 1, `rank ${rank} computed to the end once`);
    }
    assert.ok(steps.filter((s) => s.step !== 'cleanup').every((s) => s.status === 'ok'));
    const stageIns = ofType(records, 'transfer').filter((t) => t.step === 'stage_in' && t.status === 'ok').map((t) => String(t.file));
    assert.equal(new Set(stageIns).size, stageIns.length, 'no file staged in twice');
    assert.deepEqual(violations(records), []);
    assert.equal((ofType(records, 'verification')[0] as { counts: Record<string, number> }).counts.ok, 2 * RANKS + 2, 'every output delivered');
    assert.deepEqual(await daemons(), []);
  });

  it('Ctrl-C while jobs run: the jobs, the cluster and the hosts stop', async () => {
    const out = join(dir, 'interrupt');
    const scenario = await writeScenario(dir, 'long', V1.replace('sleep:1500ms', 'sleep:60s'));
    const child = runCli(['run', scenario, '--out', out, '-q'], env(), { detached: true });
    await waitForRecords(join(out, 'results.jsonl'), 'step', 1, 60_000, '"step":"stage_in"');
    process.kill(-child.pid!, 'SIGINT');
    const r = await child;
    assert.ok(endedBy(r, 'SIGINT'), `${r.signal ?? r.exitCode}: ${String(r.stderr)}`);
    assert.deepEqual(await daemons(), []);
    assert.deepEqual(await processesMentioning([join(out, 'staging')]), [], 'no step job left');
    assert.deepEqual(await leftovers(base), []);
  });

  it('refuses before anything starts: Slurm not installed, queue_loss without Slurm jobs or aimed at a host, a stage concurrency that varies across the matrix', async () => {
    const empty = await tempDir('no-slurm');
    const none = await runCli(['run', await writeScenario(dir, 'v1', V1), '--out', join(dir, 'none')], { ...env(), XFERBENCH_SLURM_DIR: empty });
    assert.equal(none.exitCode, 2);
    assert.match(String(none.stderr), /executor \(line \d+\): executor: slurm: slurmctld, slurmd, srun, sinfo, squeue, scancel, sbatch, scontrol not found in XFERBENCH_SLURM_DIR/);
    const local = await runCli(['validate', await writeScenario(dir, 'local-loss', `${V1.replace('executor: slurm\nslurm: { nodes: 3, tasks_per_node: 3 }\n', '')}faults: [{ kind: queue_loss, host: user }]\n`)], env());
    assert.equal(local.exitCode, 2);
    assert.match(String(local.stderr), /faults\[0\]\.kind.*queue_loss cancels a pipeline's Slurm jobs: it needs pipeline: and executor: slurm/);
    assert.match(String(local.stderr), /faults\[0\]\.host.*acts on the job queue, not on a host/);
    const transfer = await runCli(['validate', await writeScenario(dir, 'transfer-loss', 'name: t\nhosts: { t: {} }\ndataset: { files: 2, size: 1KiB }\ntransfer: { to: t }\nfaults: [{ kind: queue_loss }]\n')], env());
    assert.equal(transfer.exitCode, 2);
    assert.match(String(transfer.stderr), /queue_loss cancels a pipeline's Slurm jobs/);
    const hostFault = await runCli(['validate', await writeScenario(dir, 'host-fault', `${V1}faults: [{ kind: pause_sshd, host: head, at: 1s }]\n`)], env());
    assert.equal(hostFault.exitCode, 2);
    assert.match(String(hostFault.stderr), /pause_sshd: a pipeline takes queue faults \(queue_loss\) only/);
    const varying = await runCli(['validate', await writeScenario(dir, 'varying', `${V1}matrix:\n  pipeline.stage_in.concurrency: [2, 4]\n`)], env());
    assert.equal(varying.exitCode, 2);
    assert.match(String(varying.stderr), /pipeline\.stage_in\.concurrency.*license count: it cannot vary across the matrix/);
    const twoClusters = join(dir, 'two-clusters-out');
    const clusters = await runCli(['run', await writeScenario(dir, 'two-clusters', `${V1}matrix:\n  slurm.cluster: [private, existing]\n`), '--out', twoClusters], env());
    assert.equal(clusters.exitCode, 2);
    assert.match(String(clusters.stderr), /slurm.*name the run's one cluster: they cannot vary across the matrix/);
    assert.equal(existsSync(twoClusters), false, 'nothing written');
    await removeAll(empty);
  });
});
