import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startSlurmCluster } from '../../src/executors/slurm/slurm-cluster.js';
import { endedBy, isolatedStateBase, leftovers, processesMentioning, readJsonl, removeAll, runCli, tempDir, waitForRecords, writeScenario } from '../helpers/harness.js';
import { slurmDaemons as daemons, slurmOrSkip } from '../helpers/slurm.js';

const { slurm, skip } = await slurmOrSkip();

const FANOUT = `name: fanout
executor: slurm
slurm: { nodes: 3, tasks_per_node: 2 }
hosts:
  target: { sshd: { MaxStartups: "100:30:200", MaxSessions: 100 } }
dataset: { files: 30, size: 16KiB }
transfer: { to: target, concurrency: 12 }
matrix:
  concurrency: [12, 4]
`;

describe.skipIf(skip !== undefined)(`executor: slurm (private cluster)${skip ? ` — skipped: ${skip}` : ''}`, () => {
  let base: string;
  let dir: string;
  const env = () => ({ XFERBENCH_STATE_DIR: base });
  beforeAll(async () => {
    base = await isolatedStateBase('slurm');
    dir = await tempDir('slurm');
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    assert.deepEqual(await daemons(), [], 'no Slurm daemon left');
    await removeAll(base, dir);
  });

  it('fans a cell out over 3 nodes x 2 tasks: one record per planned transfer, each with its node and task, merged into one report; a concurrency below the tasks uses only that many', async () => {
    const out = join(dir, 'fanout');
    const r = await runCli(['run', await writeScenario(dir, 'fanout', FANOUT), '--out', out], env());
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.match(String(r.stderr), /Slurm cluster up: n1, n2, n3/);
    const records = await readJsonl(join(out, 'results.jsonl'));
    for (const [id, tasks] of [['concurrency=12', [0, 1, 2, 3, 4, 5]], ['concurrency=4', [0, 1, 2, 3]]] as const) {
      const transfers = records.filter((x) => x.type === 'transfer' && x.cell === id);
      assert.equal(transfers.length, 30, `${id}: as many records as planned transfers`);
      assert.deepEqual(new Set(transfers.map((t) => t.node)), new Set(['n1', 'n2', 'n3']), `${id}: every node`);
      assert.deepEqual(new Set(transfers.map((t) => t.task)), new Set(tasks), `${id}: tasks in use`);
      assert.ok(transfers.every((t) => t.status === 'ok'));
      const v = records.find((x) => x.type === 'verification' && x.cell === id) as { counts: Record<string, number> };
      assert.equal(v.counts.ok, 30, `${id}: every file verified at the destination`);
      // Records come back on the run clock: within the cell's own window.
      const cell = records.find((x) => x.type === 'cell' && x.cell === id) as { start_ms: number; end_ms: number };
      assert.ok(transfers.every((t) => (t.start_ms as number) >= cell.start_ms - 1 && (t.end_ms as number) <= cell.end_ms + 1));
    }
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    const peak = (id: string) => summary.cells.find((c: { cell: string }) => c.cell === id).repeats[0].peak_in_flight;
    assert.ok(peak('concurrency=12') <= 12 && peak('concurrency=4') <= 4, `never more in flight than asked: ${peak('concurrency=12')}, ${peak('concurrency=4')}`);
    const perNode = /per node: n1 (\d+) transfers, 0 failed; n2 (\d+) transfers, 0 failed; n3 (\d+) transfers, 0 failed/.exec(String(r.stdout));
    assert.ok(perNode, String(r.stdout));
    assert.equal(perNode.slice(1).reduce((n, x) => n + Number(x), 0), 60, 'the per-node line counts every transfer');
    assert.deepEqual(await daemons(), [], 'the cluster stopped with the run');
  });

  it('records come back while the step runs; Ctrl-C mid-cell stops the tasks, the cluster and the hosts', async () => {
    const out = join(dir, 'interrupt');
    const scenario = await writeScenario(dir, 'long', FANOUT.replace('files: 30', 'files: 600').replace('concurrency: [12, 4]', 'concurrency: [6]'));
    const child = runCli(['run', scenario, '--out', out, '-q'], env(), { detached: true });
    // The step's tasks have started when the cluster's job runs a worker.
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      if ((await processesMentioning(['slurm-job.json'])).length > 0) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    // 600 files at 6 at once outlast this wait: records seen now were read while the step ran.
    await waitForRecords(join(out, 'results.jsonl'), 'transfer', 12, 60_000);
    assert.ok((await processesMentioning(['slurm-job.json'])).length > 0, 'the step is still running');
    process.kill(-child.pid!, 'SIGINT');
    const r = await child;
    assert.ok(endedBy(r, 'SIGINT'), `${r.signal ?? r.exitCode}: ${String(r.stderr)}`);
    assert.deepEqual(await daemons(), []);
    assert.deepEqual(await leftovers(base), []);
  });

  it('cluster: existing runs a fan-out and a pipeline on the cluster SLURM_CONF names (here a private one standing in for a site\'s), and refuses more nodes than its partition has', async () => {
    const site = join(dir, 'site-cluster');
    await using cluster = await startSlurmCluster(site, { nodes: 3, cpus: 4, programs: slurm! });
    const scenario = await writeScenario(dir, 'existing', FANOUT.replace('slurm: { nodes: 3, tasks_per_node: 2 }', 'slurm: { nodes: 2, tasks_per_node: 2, cluster: existing, partition: xb }'));
    const out = join(dir, 'existing');
    const r = await runCli(['run', scenario, '--out', out, '-q'], { ...env(), ...cluster.env });
    assert.equal(r.exitCode, 0, String(r.stderr));
    const transfers = (await readJsonl(join(out, 'results.jsonl'))).filter((x) => x.type === 'transfer');
    assert.equal(transfers.length, 60);
    assert.equal(new Set(transfers.map((t) => t.node)).size, 2, 'the 2 nodes asked for');
    // A pipeline's jobs go to the same cluster and partition.
    const pipeline = await writeScenario(dir, 'existing-pipeline', `name: p
executor: slurm
slurm: { nodes: 2, cluster: existing, partition: xb }
hosts: { pfs: {} }
dataset: { files: 4, size: 16KiB }
pipeline: { ranks: 2, stage_in: { from: pfs }, compute: { run: transform }, stage_out: { to: pfs } }
`);
    const p = await runCli(['run', pipeline, '--out', join(dir, 'existing-pipeline'), '-q'], { ...env(), ...cluster.env });
    assert.equal(p.exitCode, 0, String(p.stderr));
    const steps = (await readJsonl(join(dir, 'existing-pipeline', 'results.jsonl'))).filter((x) => x.type === 'step');
    assert.equal(steps.length, 6);
    assert.ok(steps.every((s) => s.status === 'ok' && /^\d+$/.test(String(s.job_id))), 'each step a job of the existing cluster');
    const tooMany = await runCli(['run', await writeScenario(dir, 'too-many', FANOUT.replace('slurm: { nodes: 3, tasks_per_node: 2 }', 'slurm: { nodes: 5, cluster: existing, partition: xb }')), '--out', join(dir, 'too-many')], { ...env(), ...cluster.env });
    assert.equal(tooMany.exitCode, 2);
    assert.match(String(tooMany.stderr), /slurm\.nodes.*5 nodes asked for; the cluster's partition xb has 3/);
    const noConf = await runCli(['validate', scenario], env());
    assert.equal(noConf.exitCode, 2);
    assert.match(String(noConf.stderr), /slurm\.cluster.*SLURM_CONF is not set/);
  });

  it('refuses what it cannot run before anything starts: a pipeline, faults, an in-process tool, slurm settings without executor: slurm', async () => {
    const bad = await writeScenario(dir, 'bad', `name: bad
executor: slurm
hosts: { target: {} }
dataset: { files: 4, size: 1KiB }
transfer: { to: target, tool: ssh2-sftp }
faults: [{ kind: pause_sshd, host: target, at: 1s, for: 1s }]
`);
    const r = await runCli(['run', bad, '--out', join(dir, 'bad-out')], env());
    assert.equal(r.exitCode, 2);
    assert.match(String(r.stderr), /transfer\.tool.*executor: slurm runs rsync, scp, sftp, cp/);
    assert.match(String(r.stderr), /faults.*the nodes launch them/);
    const stray = await writeScenario(dir, 'stray', 'name: s\nslurm: { nodes: 2 }\nhosts: { t: {} }\ndataset: { files: 2, size: 1KiB }\ntransfer: { to: t }\n');
    const s = await runCli(['validate', stray], env());
    assert.equal(s.exitCode, 2);
    assert.match(String(s.stderr), /slurm .*apply with executor: slurm/);
  });
});
