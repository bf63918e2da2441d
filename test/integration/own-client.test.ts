import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { chmod, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isolatedStateBase, leftovers, readJsonl, removeAll, runCli, tempDir, writeScenario } from '../helpers/harness.js';

type Transfer = { type: string; file: string; status: string };
type Cell = { type: string; ok: number; silent_drops: number; sshd: Record<string, { accepted_logins: number }> };

describe('tool: command (your own transfer command)', () => {
  let base: string;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    base = await isolatedStateBase('own-client');
    dir = await tempDir('own-client');
    env = { XFERBENCH_STATE_DIR: base };
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base, dir);
  });

  it('a tool that runs plain `ssh` (rsync via RSYNC_RSH) reaches the hosts through the jump host with the run\'s key', async () => {
    const file = await writeScenario(dir, 'rsync-cmd', `name: rsync-cmd
hosts:
  target: { sshd: { MaxStartups: "100" } }
  head: {}
dataset: { files: 6, size: 4KiB }
transfer: { tool: command, command: [rsync, -a, "{src}", "{dest}"], to: target, via: [head], concurrency: 3 }
thresholds: { failure_rate: "<= 0", silent_drops: "== 0" }
`);
    const out = join(dir, 'out-rsync');
    const r = await runCli(['run', file, '--out', out, '-q'], env);
    assert.equal(r.exitCode, 0, String(r.stderr) + String(r.stdout));
    const records = await readJsonl(join(out, 'results.jsonl'));
    assert.equal(records.filter((x) => x.type === 'transfer' && (x as Transfer).status === 'ok').length, 6);
    const cell = records.find((x) => x.type === 'cell') as Cell;
    assert.ok(cell.sshd.head!.accepted_logins >= 6, 'every transfer logged in to the jump host');
    assert.ok(cell.sshd.target!.accepted_logins >= 6);
  });

  /** Writes an executable script, then runs the scenario `scenario(script)` writes; exit 1 expected (a silent drop). */
  async function runScript(name: string, body: string, scenario: (script: string) => string) {
    const script = join(dir, `${name}.sh`);
    await writeFile(script, `#!/bin/sh\n${body}\n`);
    await chmod(script, 0o755);
    const out = join(dir, `out-${name}`);
    const r = await runCli(['run', await writeScenario(dir, name, scenario(JSON.stringify(script))), '--out', out, '-q'], env);
    assert.equal(r.exitCode, 1, String(r.stderr) + String(r.stdout));
    return { out, records: await readJsonl(join(out, 'results.jsonl')) };
  }

  it('a script that skips a file and exits 0 is caught as a silent drop of that file (exit 1)', async () => {
    // scp calls /usr/bin/ssh by absolute path, so the script hands it the lane's ssh with -S.
    const { records } = await runScript('skip', 'case "$1" in *file-2.bin) exit 0;; esac\nexec scp -q -S "$RSYNC_RSH" "$1" "$2"', (script) => `name: skip
hosts: { target: { sshd: { MaxStartups: "100" } } }
dataset: { files: 4, size: 4KiB }
transfer: { tool: command, command: [${script}, "{src}", "{dest}"], to: target, concurrency: 2, mux: warm }
thresholds: { silent_drops: "== 0" }
`);
    const cell = records.find((x) => x.type === 'cell') as Cell;
    assert.equal(cell.ok, 4, 'the script said all four went');
    assert.equal(cell.silent_drops, 1);
    const verification = records.find((x) => x.type === 'verification') as { silent_drops: string[] };
    assert.deepEqual(verification.silent_drops, ['file-2.bin']);
  });

  it('unit: batch runs one invocation per destination replica; a file it leaves out is a silent drop', async () => {
    // $1 the list, $2 and $3 the folders: sends all but the first file listed, exits 0.
    const { out, records } = await runScript('batch', 'tail -n +2 "$1" > "$1.partial"\nexec rsync -a --files-from="$1.partial" "$2/" "$3/"', (script) => `name: batch
hosts: { target: { count: 2, sshd: { MaxStartups: "100" } } }
dataset: { files: 8, size: 4KiB, layout: tree }
transfer: { tool: command, unit: batch, command: [${script}, "{file_list}", "{src_dir}", "{dest_dir}"], to: target, concurrency: 4 }
thresholds: { silent_drops: "== 0" }
`);
    const transfers = records.filter((x) => x.type === 'transfer') as (Transfer & { batch?: string })[];
    assert.equal(transfers.length, 8, 'one record per file');
    assert.deepEqual([...new Set(transfers.map((t) => t.batch))].sort(), ['b0', 'b1'], 'one invocation per replica');
    const cell = records.find((x) => x.type === 'cell') as Cell;
    assert.equal(cell.silent_drops, 2, 'the first file of each invocation');
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { cells: { repeats: { in_flight_target: number; peak_in_flight: number }[] }[] };
    assert.deepEqual([summary.cells[0]!.repeats[0]!.peak_in_flight, summary.cells[0]!.repeats[0]!.in_flight_target], [2, 2], 'in flight counts invocations');
  });

  it('tool: ssh2-sftp: channels over MaxSessions are refused and classified, one channel per connection never is', async () => {
    const file = await writeScenario(dir, 'ssh2', `name: ssh2
hosts: { target: { sshd: { MaxStartups: "100", MaxSessions: 2 } } }
dataset: { files: 12, size: 16KiB }
transfer: { tool: ssh2-sftp, to: target, concurrency: 6, connections: 1 }
matrix: { channels_per_connection: [1, 6] }
`);
    const out = join(dir, 'out-ssh2');
    const r = await runCli(['run', file, '--out', out, '-q'], env);
    assert.equal(r.exitCode, 0, String(r.stderr) + String(r.stdout));
    const cells = (await readJsonl(join(out, 'results.jsonl'))).filter((x) => x.type === 'cell') as (Cell & { cell: string; failed: number })[];
    const one = cells.find((c) => c.cell === 'channels_per_connection=1')!;
    const six = cells.find((c) => c.cell === 'channels_per_connection=6')!;
    assert.deepEqual([one.ok, one.failed], [12, 0]);
    assert.ok(six.failed >= 8, `${six.failed} of 12 refused: 2 sessions fit on the connection at a time`);
    const refused = (await readJsonl(join(out, 'results.jsonl'))).filter((x) => x.type === 'transfer' && x.cell === six.cell && x.status === 'failed') as { failure_class: string }[];
    assert.ok(refused.every((t) => t.failure_class === 'maxsessions_refused'));
    // Every channel and connection was closed: sshd logged each session's end.
    const log = await readFile(join(out, 'logs', 'target.log'), 'utf8');
    assert.equal((log.match(/Disconnected from user/g) ?? []).length, 2, 'one connection per cell, each closed');
    // What the clients were refused is what sshd says it refused ("no more sessions").
    assert.equal((six as unknown as { sshd: { target: { sessions_refused: number } } }).sshd.target.sessions_refused, refused.length);
  });

  it('tool: ssh2-sftp: a slot is free only once sshd closed the channel, so channels equal to MaxSessions are never refused; in flight is judged against connections × channels', async () => {
    const file = await writeScenario(dir, 'ssh2-cap', `name: ssh2-cap
hosts: { target: { sshd: { MaxStartups: "100", MaxSessions: 4 } } }
dataset: { files: 60, size: 8KiB }
transfer: { tool: ssh2-sftp, to: target, concurrency: 10, connections: 2, channels_per_connection: 4 }
repeat: 3
`);
    const out = join(dir, 'out-ssh2-cap');
    const r = await runCli(['run', file, '--out', out, '-q'], env);
    assert.equal(r.exitCode, 0, String(r.stderr) + String(r.stdout));
    const records = await readJsonl(join(out, 'results.jsonl'));
    const cells = records.filter((x) => x.type === 'cell') as { failed: number; concurrency: number; sshd: { target: { sessions_refused: number } } }[];
    assert.deepEqual(cells.map((c) => [c.failed, c.sshd.target.sessions_refused, c.concurrency]), [[0, 0, 8], [0, 0, 8], [0, 0, 8]], 'three repeats, 180 files, no session refused');
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { warnings: string[]; cells: { repeats: { in_flight_target: number }[] }[] };
    assert.deepEqual(summary.cells[0]!.repeats.map((x) => x.in_flight_target), [8, 8, 8], '2 connections × 4 channels, not the concurrency of 10');
    assert.ok(summary.warnings.every((w) => !/of 10 transfers were in flight/.test(w)), summary.warnings.join('; '));
  });
});
