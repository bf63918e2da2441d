import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { endedBy, isolatedStateBase, leftovers, readJsonl, removeAll, runCli, scenarioPath, tempDir, writeScenario } from '../helpers/harness.js';

type Attempt = { failure_class: string | null };
type Transfer = { type: string; cell: string; status: string; attempts: Attempt[] };
type Cell = { type: string; cell: string; ok: number; failed: number; silent_drops: number; sshd: Record<string, { maxstartups_drops: number }> };
type Fault = { type: string; cell: string; kind: string; host: string; t_ms: number };
type Summary = { faults: { cell: string; kind: string; hit: number; recovered: number; failed: number; silent_drops: number }[] };

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
    const html = await readFile(join(out, 'report.html'), 'utf8');
    return { r, cell, failedClasses, faults, summary, html };
  }

  it('kill_sshd on the jump host: without retries the transfers fail as refused or reset (sshd logged no MaxStartups drop); with retries every one recovers; sshd is back for the next cell', async () => {
    const { r, cell, failedClasses, faults, summary, html } = await run('restart', scenarioPath('fault-sshd-restart'), ['dataset.files=30']);
    assert.ok(r.exitCode === 0, String(r.stdout) + String(r.stderr));
    const none = cell('transfer.retries=0');
    assert.ok(none.failed > 0);
    assert.equal(none.sshd.head!.maxstartups_drops, 0);
    const classes = failedClasses('transfer.retries=0');
    assert.ok(classes.has('connection_refused'), [...classes].join());
    for (const c of classes) assert.ok(['connection_refused', 'connection_reset', 'maxstartups_drop'].includes(c!), `unexpected class ${c}`);
    const five = cell('transfer.retries=5');
    assert.deepEqual([five.ok, five.failed, five.silent_drops], [30, 0, 0]);
    for (const id of ['transfer.retries=0', 'transfer.retries=5']) assert.deepEqual(faults(id), ['fault_start kill_sshd head', 'fault_end kill_sshd head'], id);
    const hit = summary.faults.find((f) => f.cell === 'transfer.retries=5')!;
    assert.ok(hit.hit > 0 && hit.recovered > 0 && hit.failed === 0, JSON.stringify(hit));
    assert.match(html, /injected fault/);
  });

  it('revoke_key: transfers that log in inside the window fail as auth; with retries they log in again once the key is back', async () => {
    const { r, cell, failedClasses, faults } = await run('revoke', scenarioPath('fault-credential-expiry'), ['dataset.files=30']);
    assert.equal(r.exitCode, 0, String(r.stdout) + String(r.stderr));
    assert.ok(cell('transfer.retries=0').failed > 0);
    assert.deepEqual([...failedClasses('transfer.retries=0')], ['auth']);
    assert.deepEqual([cell('transfer.retries=5').ok, cell('transfer.retries=5').failed], [30, 0]);
    assert.deepEqual(faults('transfer.retries=5'), ['fault_start revoke_key target', 'fault_end revoke_key target']);
  });

  const PAUSED = (files: number, forS: number) => `name: paused
hosts:
  target: { sshd: { MaxStartups: "100" } }
dataset: { files: ${files}, size: 64KiB }
transfer: { tool: rsync, to: target, concurrency: 2, timeout_s: 20, ssh_options: { ConnectTimeout: 1 }, rsync_args: [--timeout=2] }
faults:
  - { kind: pause_sshd, host: target, at: 500ms, for: ${forS}s }
`;

  it('pause_sshd: a hung host times transfers out (ConnectTimeout, rsync --timeout), and is thawed when the fault ends', async () => {
    const file = await writeScenario(dir, 'paused', PAUSED(40, 3));
    const { r, cell, failedClasses, faults } = await run('paused', file);
    assert.ok(r.exitCode === 0 || r.exitCode === 1, String(r.stderr));
    const c = cell('default');
    assert.ok(c.failed > 0 && c.ok > 0, `ok ${c.ok}, failed ${c.failed}: some before or after the pause, some during it`);
    assert.deepEqual([...failedClasses('default')], ['timeout']);
    assert.deepEqual(faults('default'), ['fault_start pause_sshd target', 'fault_end pause_sshd target']);
  });

  it('SIGINT while a host is paused: the run ends by SIGINT and leaves no process, stopped or not', async () => {
    const file = await writeScenario(dir, 'paused-long', PAUSED(200, 60));
    const out = join(dir, 'paused-int');
    const child = runCli(['run', file, '--out', out, '-q'], env(), { detached: true });
    const deadline = Date.now() + 60_000;
    while (!(await readFile(join(out, 'results.jsonl'), 'utf8').catch(() => '')).includes('"fault_start"')) {
      assert.ok(Date.now() < deadline, 'the fault started');
      await sleep(100);
    }
    process.kill(-child.pid!, 'SIGINT');
    const r = await child;
    assert.ok(endedBy(r, 'SIGINT'), `${r.signal ?? r.exitCode}: ${String(r.stderr)}`);
    assert.deepEqual(await leftovers(base), []);
  });
});
