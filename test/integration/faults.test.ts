import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { endedBy, isolatedStateBase, waitForRecords, leftovers, readJsonl, removeAll, runCli, scenarioPath, tempDir, writeScenario } from '../helpers/harness.js';

type Attempt = { failure_class: string | null };
type Transfer = { type: string; cell: string; status: string; attempts: Attempt[] };
import type { CellDrops } from '../../src/records/cell-record.js';
type Cell = { type: string; cell: string; ok: number; failed: number; silent_drops: number; sshd: Record<string, { maxstartups_drops: number }>; drops?: CellDrops };
type Fault = { type: string; cell: string; kind: string; host: string; t_ms: number; detail: string };
type Summary = {
  faults: { outcome: string; cell: string; kind: string; detail: string; hit: number; recovered: number; failed: number; silent_drops: number }[];
  warnings: string[];
  cells: { cell: string; failed: number; stats: { throughput_mbps?: { mean: number } }; classes: Record<string, number> }[];
};

const nftTables = async () => (await execa('nft', ['list', 'tables'])).stdout;

/** Faults on the local backend, each in a real run: what the transfers saw, the records, and nothing left. */
describe('fault injection (local backend)', () => {
  let base: string;
  let dir: string;
  const env = () => ({ XFERBENCH_STATE_DIR: base });
  beforeAll(async () => {
    base = await isolatedStateBase('faults');
    dir = await tempDir('faults');
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base, dir);
  });

  async function run(name: string, file: string, sets: string[] = []) {
    const out = join(dir, name);
    const r = await runCli(['run', file, '--out', out, '-q', ...sets.flatMap((s) => ['--set', s])], env());
    const records = await readJsonl(join(out, 'results.jsonl'));
    const cell = (id: string) => records.find((x) => x.type === 'cell' && x.cell === id) as Cell;
    const failedClasses = (id: string) => new Set((records.filter((x) => x.type === 'transfer' && x.cell === id && (x as Transfer).status === 'failed') as Transfer[]).map((t) => t.attempts.at(-1)!.failure_class));
    const faults = (id: string) => (records.filter((x) => (x.type === 'fault_start' || x.type === 'fault_end') && x.cell === id) as Fault[]).map((f) => `${f.type} ${f.kind} ${f.host}`);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as Summary;
    // Every applied fault is a band on the report's timeline and a line of the summary.
    const applied = records.filter((x) => x.type === 'fault_start').length;
    assert.equal(summary.faults.filter((f) => f.outcome === 'applied').length, applied);
    if (applied > 0) assert.match(await readFile(join(out, 'report.html'), 'utf8'), /injected fault/);
    return { r, records, cell, failedClasses, faults, summary };
  }

  /** A run in the background, once `faults` faults have started (wrapped: the subprocess is a thenable). */
  async function startUntilFault(file: string, out: string, faults = 1) {
    const child = runCli(['run', file, '--out', out, '-q'], env(), { detached: true });
    await waitForRecords(join(out, 'results.jsonl'), 'fault_start', faults);
    return { child };
  }

  it('a fault whose time never came is said: a fault_missed record, its outcome in summary.json, a line in the table, a warning', async () => {
    // Two 1 KiB files end long before 200 s (the most a cell may run is 300 s, so validate takes
    // it): the revoke never happens, while the kill at 0 s does.
    const file = await writeScenario(dir, 'missed', `name: missed
hosts:
  target: { sshd: { MaxStartups: "100" } }
dataset: { files: 2, size: 1KiB }
transfer: { to: target, retries: 3 }
faults:
  - { kind: pause_sshd, host: target, at: 0s, for: 100ms }
  - { kind: revoke_key, host: target, at: 200s }
`);
    const { r, records, summary } = await run('missed', file);
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.deepEqual(records.filter((x) => String(x.type).startsWith('fault_')).map((x) => `${String(x.type)} ${String(x.kind)}`).sort(), ['fault_end pause_sshd', 'fault_missed revoke_key', 'fault_start pause_sshd']);
    const missed = summary.faults.find((f) => f.kind === 'revoke_key')!;
    assert.equal(missed.outcome, 'not_reached');
    assert.match(missed.detail, /^not applied: the cell's transfers ended before its time \(200 s after they began\)$/);
    assert.equal(summary.faults.find((f) => f.kind === 'pause_sshd')!.outcome, 'applied');
    assert.deepEqual(summary.warnings, ["fault revoke_key on target in default #1 was not applied: the cell's transfers ended before its time (200 s after they began)"]);
    const table = await readFile(join(dir, 'missed', 'summary.txt'), 'utf8');
    assert.match(table, /^fault revoke_key on target \[default #1\]: not applied: /m);
    assert.match(table, /^warning: fault revoke_key on target in default #1 was not applied/m);
  });

  it('kill_sshd on the jump host: without retries the transfers fail as refused or reset (sshd logged no MaxStartups drop); with retries every one recovers; sshd is back for the next cell', async () => {
    const { r, records, cell, failedClasses, faults, summary } = await run('restart', scenarioPath('fault-sshd-restart'), ['dataset.files=30']);
    assert.ok(r.exitCode === 0, String(r.stdout) + String(r.stderr));
    const none = cell('transfer.retries=0');
    assert.ok(none.failed > 0);
    assert.equal(none.sshd.head!.maxstartups_drops, 0);
    const classes = failedClasses('transfer.retries=0');
    assert.ok(classes.has('connection_refused'), [...classes].join());
    const stderrOf = (c: string | null) => (records.find((x) => x.type === 'transfer' && (x as Transfer).attempts.at(-1)!.failure_class === c) as { attempts: { stderr_tail: string }[] }).attempts.at(-1)!.stderr_tail;
    for (const c of classes) {
      // Only a program that said nothing at all may leave a failure unknown (rsync's own
      // "connection unexpectedly closed" is a cut connection).
      const silent = c === 'unknown' && stderrOf(c).split('\n').every((l) => l === '' || l.startsWith('xferbench: connected') || (l.startsWith('rsync') && !l.includes('connection unexpectedly closed')));
      assert.ok(silent || ['connection_refused', 'connection_reset'].includes(c!), `unexpected class ${c}: ${JSON.stringify(stderrOf(c))}`);
    }
    // sshd logged no drop, so no attempt keeps the class: a close before the banner in the
    // window is connection_reset, and says which fault it fell in (docs/drop-agreement.md).
    const attempts = records.filter((x) => x.type === 'transfer').flatMap((x) => (x as { attempts: { classes: string[]; reclassified?: { reason: string } }[] }).attempts);
    assert.ok(attempts.every((a) => !a.classes.includes('maxstartups_drop')), 'no maxstartups_drop without a drop sshd logged');
    for (const a of attempts.filter((x) => x.reclassified)) assert.match(a.reclassified!.reason, /logged no MaxStartups drop of this connection \((?:client port \d+|its client port unknown, [^)]*)\); inside fault kill_sshd on head/);
    for (const id of ['transfer.retries=0', 'transfer.retries=5']) assert.deepEqual(cell(id).drops!.hosts.head!.client, 0, id);
    const five = cell('transfer.retries=5');
    assert.deepEqual([five.ok, five.failed, five.silent_drops], [30, 0, 0]);
    for (const id of ['transfer.retries=0', 'transfer.retries=5']) assert.deepEqual(faults(id), ['fault_start kill_sshd head', 'fault_end kill_sshd head'], id);
    const hit = summary.faults.find((f) => f.cell === 'transfer.retries=5')!;
    assert.ok(hit.hit > 0 && hit.recovered > 0 && hit.failed === 0, JSON.stringify(hit));
  });

  it('revoke_key: transfers that log in inside the window fail as auth; with retries they log in again once the key is back', async () => {
    const { r, cell, failedClasses, faults } = await run('revoke', scenarioPath('fault-credential-expiry'), ['dataset.files=30']);
    assert.equal(r.exitCode, 0, String(r.stdout) + String(r.stderr));
    assert.ok(cell('transfer.retries=0').failed > 0);
    assert.deepEqual([...failedClasses('transfer.retries=0')], ['auth']);
    assert.deepEqual([cell('transfer.retries=5').ok, cell('transfer.retries=5').failed], [30, 0]);
    assert.deepEqual(faults('transfer.retries=5'), ['fault_start revoke_key target', 'fault_end revoke_key target']);
  });

  /** Small files over ssh masters with one client fault. */
  const MUX_FAULT = (files: number, mux: string, fault: string) => `name: mux-fault
hosts:
  target: { sshd: { MaxStartups: "100", MaxSessions: 100 } }
dataset: { files: ${files}, size: 16KiB }
transfer: { tool: rsync, to: target, concurrency: 4, mux: ${mux} }
faults:
  - ${fault}
`;

  it('kill_master on a warm master: new transfers find its socket dead and connect on their own (mux_master_lost), and a fresh master carries those after the fault', async () => {
    const file = await writeScenario(dir, 'master', MUX_FAULT(120, 'warm', '{ kind: kill_master, at: "25%", for: 500ms }'));
    const { r, records } = await run('master', file);
    assert.ok(r.exitCode === 0, String(r.stderr));
    const [start, end] = records.filter((x) => x.type === 'fault_start' || x.type === 'fault_end') as Fault[];
    assert.deepEqual([start!.type, start!.host, end!.type], ['fault_start', 'client', 'fault_end']);
    assert.match(String(start!.detail), /^1 ssh master\(s\) killed/);
    const transfers = records.filter((x) => x.type === 'transfer') as (Transfer & { start_ms: number; classes: string[] })[];
    assert.ok(transfers.some((t) => t.classes.includes('mux_master_lost') && t.status === 'ok'), 'some fell back to their own connection and succeeded');
    const after = transfers.filter((t) => t.start_ms > end!.t_ms + 100);
    assert.ok(after.length > 0, 'transfers after the fault');
    assert.deepEqual(after.filter((t) => t.classes.includes('mux_master_lost')).length, 0, 'a fresh master carried the transfers after the fault');
  });

  const DISK_FULL = (files: number, concurrency: number, more = '') => `name: full
hosts:
  target: { sshd: { MaxStartups: "100" } }
dataset: { files: ${files}, size: 256KiB }
transfer: { tool: rsync, to: target, concurrency: ${concurrency} }
faults:
  - { kind: disk_full, host: target, free: 1MiB }${more}
`;

  it('master_expiry: cold masters with ControlPersist 1 s; the run is recorded and nothing is lost silently or left behind', async () => {
    const file = await writeScenario(dir, 'expiry', MUX_FAULT(40, 'cold', '{ kind: master_expiry, persist: 1s }'));
    const { r, cell, faults, failedClasses } = await run('expiry', file);
    assert.ok(r.exitCode === 0, String(r.stderr));
    assert.deepEqual(faults('default'), ['fault_start master_expiry client', 'fault_end master_expiry client']);
    assert.equal(cell('default').silent_drops, 0);
    // A client that lost the race fails as a drop (where sshd logged one) or as a connection that
    // ended under it (its master expired); never unknown.
    for (const c of failedClasses('default')) assert.ok(['maxstartups_drop', 'connection_reset'].includes(c!), String(c));
  });

  it('disk_full: transfers fail with no_space; without --partial the files are missing, with --partial rsync leaves them partial under their final names (corrupt); no mount is left', async () => {
    const file = await writeScenario(dir, 'full', `${DISK_FULL(24, 4)}matrix:\n  transfer.rsync_args: [[], [--partial]]\n`);
    const { r, records, failedClasses } = await run('full', file);
    assert.ok(r.exitCode === 0, String(r.stderr));
    const counts = (cell: string) => (records.find((x) => x.type === 'verification' && x.cell === cell) as { counts: Record<string, number> }).counts;
    const plain = counts('transfer.rsync_args=[]');
    const partial = counts('transfer.rsync_args=["--partial"]');
    assert.ok(plain.ok! > 0 && plain.ok! < 24 && plain.missing! > 0 && plain.corrupt === 0, JSON.stringify(plain));
    assert.ok(partial.corrupt! > 0, JSON.stringify(partial));
    const classes = failedClasses('transfer.rsync_args=[]');
    assert.ok(classes.has('no_space'), [...classes].join());
    // Never unknown: the few rsyncs that exit 11 with no line at all are io_error (rsync's code).
    for (const id of ['transfer.rsync_args=[]', 'transfer.rsync_args=["--partial"]']) {
      for (const c of failedClasses(id)) assert.ok(c === 'no_space' || c === 'io_error', `${id}: ${c}`);
    }
    assert.doesNotMatch(await readFile('/proc/mounts', 'utf8'), /xferbench-disk-full/);
  });

  it('after SIGKILL mid disk_full and reset, `xferbench clean` stops the hosts, removes the mount and the nftables table', async () => {
    const file = await writeScenario(dir, 'full-kill', DISK_FULL(400, 2, '\n  - { kind: reset, host: target, probability: 0.01 }'));
    // Both applied (they start together, each recorded once it is in place).
    const { child } = await startUntilFault(file, join(dir, 'full-kill'), 2);
    process.kill(child.pid!, 'SIGKILL');
    await child;
    assert.match(await readFile('/proc/mounts', 'utf8'), /xferbench-disk-full/, 'the dead run left its mount');
    assert.match(await nftTables(), /xferbench_/, 'and its table');
    const clean = await runCli(['clean'], env());
    assert.equal(clean.exitCode, 0, String(clean.stderr));
    assert.doesNotMatch(await readFile('/proc/mounts', 'utf8'), /xferbench-disk-full/);
    assert.doesNotMatch(await nftTables(), /xferbench_/);
    assert.deepEqual(await leftovers(base), []);
  });

  it('bandwidth polices the host\'s traffic to its rate; reset answers a share of new connections with a reset (refused); both tables are gone after', async () => {
    const file = await writeScenario(dir, 'net', `name: net
hosts:
  target: { sshd: { MaxStartups: "100" } }
dataset: { files: 12, size: 1MiB }
transfer: { tool: rsync, to: target, concurrency: 1 }
matrix:
  faults: [[{ kind: bandwidth, host: target, rate: 16mbit }], [{ kind: reset, host: target, probability: 0.6 }]]
`);
    const { r, summary } = await run('net', file);
    assert.ok(r.exitCode === 0, String(r.stderr));
    const cell = (kind: string) => summary.cells.find((c) => c.cell.includes(`"kind":"${kind}"`))!;
    // 16 Mbit/s is 2 MB/s; a loaded machine is only slower. 12 tries at 60 %: none reset once in 60,000.
    const slow = cell('bandwidth').stats.throughput_mbps!.mean;
    assert.ok(slow <= 2 * 1.3, `${slow} MB/s under a 2 MB/s limit`);
    const flaky = cell('reset');
    assert.ok(flaky.failed > 0);
    assert.deepEqual(Object.keys(flaky.classes), ['connection_refused']);
    assert.doesNotMatch(await nftTables(), /xferbench_/);
  });

  // Every attempt in flight when sshd stops is ended by the harness's own timeout (2 s) before the
  // pause (4 s) is over, whatever phase it froze in: ssh's ConnectTimeout ends with the key
  // exchange and rsync's --timeout starts with its protocol, and an attempt frozen in between
  // (authentication, the session's start) waited the pause out and succeeded.
  const PAUSED = (files: number, forS: number) => `name: paused
hosts:
  target: { sshd: { MaxStartups: "100" } }
dataset: { files: ${files}, size: 64KiB }
transfer: { tool: rsync, to: target, concurrency: 2, timeout_s: 2, ssh_options: { ConnectTimeout: 1 }, rsync_args: [--timeout=2] }
faults:
  - { kind: pause_sshd, host: target, at: 500ms, for: ${forS}s }
`;

  it('pause_sshd: a hung host times transfers out, and is thawed when the fault ends', async () => {
    const file = await writeScenario(dir, 'paused', PAUSED(40, 4));
    const { r, cell, failedClasses, faults } = await run('paused', file);
    assert.ok(r.exitCode === 0 || r.exitCode === 1, String(r.stderr));
    const c = cell('default');
    assert.ok(c.failed > 0 && c.ok > 0, `ok ${c.ok}, failed ${c.failed}: some before or after the pause, some during it`);
    assert.deepEqual([...failedClasses('default')], ['timeout']);
    assert.deepEqual(faults('default'), ['fault_start pause_sshd target', 'fault_end pause_sshd target']);
  });

  it('SIGINT while a host is paused: the run ends by SIGINT and leaves no process, stopped or not', async () => {
    const file = await writeScenario(dir, 'paused-long', PAUSED(200, 60));
    const { child } = await startUntilFault(file, join(dir, 'paused-int'));
    process.kill(-child.pid!, 'SIGINT');
    const r = await child;
    assert.ok(endedBy(r, 'SIGINT'), `${r.signal ?? r.exitCode}: ${String(r.stderr)}`);
    assert.deepEqual(await leftovers(base), []);
  });
});
