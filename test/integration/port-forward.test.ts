import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isolatedStateBase, leftovers, processesMentioning, readJsonl, removeAll, runCli, scenarioPath, tempDir } from '../helpers/harness.js';

type Attempt = { setup_ms?: number; failure_class: string | null };
type Transfer = { type: string; cell: string; status: string; attempts: Attempt[] };
type Cell = { type: string; cell: string; ok: number; failed: number; silent_drops: number; sshd: Record<string, { maxstartups_drops: number; accepted_logins: number }> };
type Verification = { type: string; cell: string; counts: { ok: number; missing: number } };

/**
 * The shipped port-forward scenario, smaller, with the login node allowing only 4 connection starts
 * at once (4:100:4): at 3 forwards none is dropped, at 32 separate ssh -L processes some must be.
 */
describe('port forwards through a jump host (tool: forward)', () => {
  let base: string;
  let dir: string;
  beforeAll(async () => {
    base = await isolatedStateBase('forward');
    dir = await tempDir('forward');
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base, dir);
  });

  it('over one master every forward works and sets up fast; an ssh -L each is dropped by the jump host\'s MaxStartups as they pile up; every file is verified', async () => {
    const out = join(dir, 'out');
    const r = await runCli(['run', scenarioPath('port-forward'), '--out', out, '-q', '--set', 'dataset.files=40', '--set', 'hosts.head.sshd.MaxStartups=4:100:4', '--set', 'matrix.concurrency=[3, 32]'], { XFERBENCH_STATE_DIR: base });
    assert.equal(r.exitCode, 0, String(r.stderr) + String(r.stdout));
    const records = await readJsonl(join(out, 'results.jsonl'));
    const cell = (id: string) => records.find((x) => x.type === 'cell' && x.cell === id) as Cell;
    const found = (id: string) => (records.find((x) => x.type === 'verification' && x.cell === id) as Verification).counts;
    const setups = (id: string) => (records.filter((x) => x.type === 'transfer' && x.cell === id) as Transfer[]).flatMap((t) => t.attempts.flatMap((a) => (a.setup_ms !== undefined ? [a.setup_ms] : [])));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

    for (const c of ['3', '32']) {
      const warm = cell(`transfer.mux=warm,concurrency=${c}`);
      assert.deepEqual([warm.ok, warm.failed, warm.silent_drops, found(`transfer.mux=warm,concurrency=${c}`).ok], [40, 0, 0, 40], `warm ${c}`);
      // The master logged in on the jump host before the cell's counting began; forwards add none.
      assert.equal(warm.sshd.head!.accepted_logins, 0, `warm ${c}: no login on head per forward`);
      assert.equal(setups(`transfer.mux=warm,concurrency=${c}`).length, 40);
    }
    const offLow = cell('transfer.mux=off,concurrency=3');
    assert.deepEqual([offLow.ok, offLow.failed, offLow.sshd.head!.maxstartups_drops], [40, 0, 0]);
    assert.ok(offLow.sshd.head!.accepted_logins >= 40, 'one login on head per forward');
    // A forward over a running master is set up faster than a new ssh through the jump host.
    assert.ok(median(setups('transfer.mux=warm,concurrency=3')) < median(setups('transfer.mux=off,concurrency=3')));

    const id = 'transfer.mux=off,concurrency=32';
    const offHigh = cell(id);
    assert.ok(offHigh.sshd.head!.maxstartups_drops > 0, 'head dropped connection starts');
    assert.ok(offHigh.failed > 0);
    assert.deepEqual([offHigh.ok, offHigh.failed, offHigh.silent_drops], [found(id).ok, found(id).missing, 0]);
    const classes = (records.filter((x) => x.type === 'transfer' && x.cell === id && (x as Transfer).status === 'failed') as Transfer[]).map((t) => t.attempts.at(-1)!.failure_class);
    assert.deepEqual([...new Set(classes)], ['maxstartups_drop']);
    // Every forward and service is gone with the run.
    assert.deepEqual(await processesMentioning(['-L 127.0.0.1:']), []);
  });
});
