import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { isolatedStateBase, leftovers, readJsonl, removeAll, runCli, scenarioPath, tempDir } from '../helpers/harness.js';

type Cell = { type: string; cell: string; repeat: number; ok: number; failed: number; silent_drops: number; sshd: Record<string, { maxstartups_drops: number }> };
type Verification = { type: string; cell: string; counts: { ok: number; missing: number } };
type Transfer = { type: string; cell: string; batch?: string; attempts: { exit_code: number | null }[] };

/**
 * The shipped scenarios for real third-party clients (Debian's fpart, lftp and rclone, installed by the
 * test set-up), made smaller with --set. What each tool reports is checked against what sshd
 * logged and what verification found.
 */
describe('third-party clients as tool: command, unit: batch', () => {
  let base: string;
  let dir: string;
  beforeAll(async () => {
    base = await isolatedStateBase('clients');
    dir = await tempDir('clients');
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base, dir);
  });

  async function run(name: string, sets: string[]) {
    const out = join(dir, name);
    const r = await runCli(['run', scenarioPath(name), '--out', out, '-q', '--set', 'repeat=1', ...sets.flatMap((s) => ['--set', s])], { XFERBENCH_STATE_DIR: base });
    const records = await readJsonl(join(out, 'results.jsonl'));
    const cell = (id: string) => records.find((x) => x.type === 'cell' && x.cell === id) as Cell;
    const verified = (id: string) => (records.find((x) => x.type === 'verification' && x.cell === id) as Verification).counts;
    const exits = (id: string) => [...new Set((records.filter((x) => x.type === 'transfer' && x.cell === id) as Transfer[]).map((t) => t.attempts.at(-1)!.exit_code))];
    return { r, cell, verified, exits };
  }

  it('lftp mirror: at --parallel=4 every file arrives with no drop; at 32 sshd drops connections, lftp exits non-zero, and the table counts what arrived', async () => {
    const { r, cell, verified, exits } = await run('lftp', ['dataset.files=60', 'matrix.concurrency=[4, 32]']);
    assert.ok(r.exitCode === 0 || r.exitCode === 1, String(r.stderr));
    const low = cell('concurrency=4');
    assert.deepEqual([low.ok, low.failed, low.sshd.target!.maxstartups_drops], [60, 0, 0]);
    assert.deepEqual(exits('concurrency=4'), [0]);
    const high = cell('concurrency=32');
    assert.ok(high.sshd.target!.maxstartups_drops > 0, 'sshd dropped some of 32 connection starts');
    const found = verified('concurrency=32');
    // Each file is ok exactly when verification found it: the tool's exit stays in the attempts.
    assert.equal(high.ok, found.ok);
    assert.equal(high.failed, found.missing);
    if (found.missing > 0) assert.notDeepEqual(exits('concurrency=32'), [0], 'lftp said so when files were lost');
    assert.equal(high.silent_drops, 0);
  });

  // Neither piles up connection starts: fpsync starts its jobs one at a time, rclone reuses connections.
  for (const [name, what] of [
    ['fpsync', 'fpsync at -n 4 and -n 64'],
    ['rclone', 'rclone with its own SSH library, given the host, run key and known_hosts, at --transfers 4 and 64'],
  ] as const) {
    it(`${what}: every file arrives, no drop, exit 0`, async () => {
      const { r, cell, exits } = await run(name, ['dataset.files=40', 'matrix.concurrency=[4, 64]']);
      assert.equal(r.exitCode, 0, String(r.stderr) + String(r.stdout));
      for (const id of ['concurrency=4', 'concurrency=64']) {
        const c = cell(id);
        assert.deepEqual([c.ok, c.failed, c.silent_drops, c.sshd.target!.maxstartups_drops], [40, 0, 0, 0], id);
        assert.deepEqual(exits(id), [0], id);
      }
    });
  }
});
