import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { endedBy, isolatedStateBase, waitForRecords, leftovers, readJsonl, removeAll, runCli, tempDir, writeScenario } from '../helpers/harness.js';

/** Long enough to be interrupted mid-cell, with ssh masters of both kinds alive. */
const LONG = `name: long
hosts:
  target: { sshd: { MaxStartups: "10:30:100", MaxSessions: 10 } }
  head: {}
dataset: { files: 400, size: 32KiB }
transfer: { to: target, via: [head], concurrency: 20 }
matrix:
  mux: [warm, cold, off]
repeat: 5
`;

describe('interruption', () => {
  let base: string;
  let dir: string;
  let scenario: string;
  beforeAll(async () => {
    base = await isolatedStateBase('interrupt');
    dir = await tempDir('interrupt');
    scenario = await writeScenario(dir, 'long', LONG);
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base, dir);
  });

  async function startAndWait(out: string, extra: string[] = []) {
    const child = runCli(['run', scenario, '--out', out, ...extra], { XFERBENCH_STATE_DIR: base }, { detached: true });
    await waitForRecords(join(out, 'results.jsonl'), 'transfer', 5, 60_000);
    assert.ok((await leftovers(base)).length >= 2, 'hosts are running');
    // Wrapped: an async function returning the subprocess (a thenable) would wait for it to end.
    return { child };
  }

  for (const [name, sig, deliver, extra] of [
    ['Ctrl-C (SIGINT to the whole process group, as a terminal sends it), warm master', 'SIGINT', (pid: number) => process.kill(-pid, 'SIGINT'), []],
    // cold: masters are ssh's own ControlPersist daemons, not children of the harness.
    ['SIGTERM to the harness alone, cold masters', 'SIGTERM', (pid: number) => process.kill(pid, 'SIGTERM'), ['--set', 'matrix.mux=[cold]']],
    // The terminal went away (ssh session to the login node closed).
    ['SIGHUP to the harness alone, no mux', 'SIGHUP', (pid: number) => process.kill(pid, 'SIGHUP'), ['--set', 'matrix.mux=[off]']],
  ] as const) {
    it(`${name}: stops every host, transfer and ssh master, records the abort and ends by ${sig}`, async () => {
      const out = join(dir, `out-${name.slice(0, 6)}`);
      const { child } = await startAndWait(out, [...extra]);
      deliver(child.pid!);
      const r = await child;
      // Cleaned up, then killed by the same signal: a shell reports 128 + its number.
      assert.ok(endedBy(r, sig), `${r.signal ?? r.exitCode}: ${String(r.stderr)}`);
      assert.match(String(r.stderr), /stopping transfers, ssh masters and sshd hosts/);
      assert.deepEqual(await leftovers(base), [], 'nothing left running');
      const records = await readJsonl(join(out, 'results.jsonl'));
      assert.equal(records.at(-1)!.type, 'run_end');
      assert.equal(records.at(-1)!.outcome, 'aborted');
    });
  }

  it('after SIGKILL, `xferbench clean` stops what the dead run left', async () => {
    const out = join(dir, 'out-kill');
    const { child } = await startAndWait(out);
    process.kill(-child.pid!, 'SIGKILL');
    await child;
    assert.ok((await leftovers(base)).length > 0, 'a killed harness cannot clean up after itself');
    const r = await runCli(['clean'], { XFERBENCH_STATE_DIR: base });
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.match(String(r.stdout), /reaped [1-9]\d* process\(es\) and 1 state folder\(s\) of run\(s\) whose owner is gone \(pid \d+\)/);
    await sleep(200);
    assert.deepEqual(await leftovers(base), []);
  });

  it('after SIGKILL, the next `run` reaps the dead run\'s sshd before it starts, and says so', async () => {
    const { child } = await startAndWait(join(dir, 'out-kill2'));
    process.kill(-child.pid!, 'SIGKILL');
    await child;
    const dead = await leftovers(base);
    assert.ok(dead.some((p) => /sshd/.test(p)), 'the dead run\'s sshd still listens');
    const r = await runCli(['run', scenario, '--out', join(dir, 'out-next'), '--set', 'dataset.files=4', '--set', 'repeat=1', '--set', 'matrix.mux=[off]'], { XFERBENCH_STATE_DIR: base });
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.match(String(r.stderr), /reaped [1-9]\d* process\(es\) and 1 state folder\(s\) of run\(s\) whose owner is gone \(pid \d+\)/);
    assert.deepEqual(await leftovers(base), []);
  });

  it('the same signal gives the same end at any moment, from start-up to the middle of a cell', async () => {
    // 0 ms: Node still starting; then loading, checking, hosts starting, transfers running.
    for (const delay of [0, 40, 120, 250, 500, 900, 1500, 2500]) {
      const out = join(dir, `out-t${delay}`);
      const child = runCli(['run', scenario, '--out', out, '--set', 'repeat=1'], { XFERBENCH_STATE_DIR: base });
      await sleep(delay);
      process.kill(child.pid!, 'SIGTERM');
      const r = await child;
      assert.ok(endedBy(r, 'SIGTERM'), `at ${delay} ms: ${r.signal ?? r.exitCode}: ${String(r.stderr)}`);
      assert.doesNotMatch(String(r.stderr), /internal error|^\s+at /m, `at ${delay} ms`);
      assert.deepEqual(await leftovers(base), [], `at ${delay} ms: nothing left running`);
      assert.deepEqual((await readdir(base).catch(() => [])).filter((d) => d.startsWith('run-')), [], `at ${delay} ms: no state folder left`);
    }
  });

  it('`clean` with nothing of ours present answers at once and starts no engine service', async () => {
    const empty = await isolatedStateBase('interrupt-clean');
    const t0 = performance.now();
    const r = await runCli(['clean'], { XFERBENCH_STATE_DIR: empty });
    const ms = performance.now() - t0;
    assert.equal(r.exitCode, 0, String(r.stderr));
    // Where an engine already listens it is asked (cheaply); none is ever started for this.
    assert.match(String(r.stdout), /no dead run left processes or state folders\n(no container engine is running and no dead run used containers|removed 0 container\(s\) and 0 network\(s\))/);
    assert.deepEqual(await readdir(empty), [], `no private engine folder (took ${ms.toFixed(0)} ms)`);
    await removeAll(empty);
  });
});
