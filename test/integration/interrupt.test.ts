import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { isolatedStateBase, leftovers, readJsonl, removeAll, runCli, tempDir, writeScenario } from '../helpers/harness.js';

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

async function transfersRecorded(file: string): Promise<number> {
  const text = await readFile(file, 'utf8').catch(() => '');
  return text.split('\n').filter((l) => l.includes('"type":"transfer"')).length;
}

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
    const deadline = Date.now() + 60_000;
    while ((await transfersRecorded(join(out, 'results.jsonl'))) < 5) {
      assert.ok(Date.now() < deadline, 'transfers started');
      await sleep(100);
    }
    assert.ok((await leftovers(base)).length >= 2, 'hosts are running');
    // Wrapped: an async function returning the subprocess (a thenable) would wait for it to end.
    return { child };
  }

  for (const [name, deliver, extra] of [
    ['Ctrl-C (SIGINT to the whole process group, as a terminal sends it), warm master', (pid: number) => process.kill(-pid, 'SIGINT'), []],
    // cold: masters are ssh's own ControlPersist daemons, not children of the harness.
    ['SIGTERM to the harness alone, cold masters', (pid: number) => process.kill(pid, 'SIGTERM'), ['--set', 'matrix.mux=[cold]']],
    // The terminal went away (ssh session to the login node closed).
    ['SIGHUP to the harness alone, no mux', (pid: number) => process.kill(pid, 'SIGHUP'), ['--set', 'matrix.mux=[off]']],
  ] as const) {
    it(`${name}: stops every host, transfer and ssh master and records the abort`, async () => {
      const out = join(dir, `out-${name.slice(0, 6)}`);
      const { child } = await startAndWait(out, [...extra]);
      deliver(child.pid!);
      const r = await child;
      assert.equal(r.exitCode, 130, String(r.stderr));
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
    assert.match(String(r.stdout), /stopped [1-9]\d* process\(es\), removed 1 state folder/);
    await sleep(200);
    assert.deepEqual(await leftovers(base), []);
  });
});
