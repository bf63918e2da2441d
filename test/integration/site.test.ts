import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { chmod, mkdir, readFile, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { findTools, type OpenSshTools } from '../../src/ssh/openssh-tools.js';
import { LocalBackend } from '../../src/hosts/local/local-backend.js';
import { createStateDir, type StateDir } from '../../src/hosts/state-dir.js';
import { generateKeyPair, type KeyPair } from '../../src/ssh/ssh-keys.js';
import { startTopology, type StartedTopology } from '../../src/hosts/topology.js';
import { loadScenario } from '../../src/plan/load-plan.js';
import { runScenario } from '../../src/run/run-scenario.js';
import type { TransferRecord } from '../../src/records/transfer-record.js';
import type { CellRecord } from '../../src/records/cell-record.js';
import { EXTERNAL_CAPS } from '../../src/spec/external-host.js';
import { isolatedStateBase, leftovers, readJsonl, removeAll, runCli, scenarioPath } from '../helpers/harness.js';
import { holdStartupSlot } from '../helpers/hold.js';

/**
 * A site stood in for by sshd hosts this test starts itself, as someone else's servers: the runs
 * under test get only an address, a key and a known_hosts, and never start, configure or read them.
 * The stand-ins' own logs are the site's side, which the runs cannot see and the test can.
 */
const SITE = {
  head: { sshd: { MaxStartups: '3:50:10' } },
  target: { sshd: { MaxStartups: '5:30:40' } },
  // One unauthenticated connection held open makes it drop every other (start 1, full 1).
  tight: { sshd: { MaxStartups: '1:100:1' } },
};


describe('backend: external — runs against servers xferbench did not start', () => {
  let tools: OpenSshTools;
  let base: string;
  /** The runs' own state (their keys, masters): separate, so what they leave is told apart from the stand-ins. */
  let runBase: string;
  let state: StateDir;
  let site: StartedTopology;
  let key: KeyPair;
  let knownHosts: string;
  let out: string;
  beforeAll(async () => {
    tools = await findTools();
    base = await isolatedStateBase('site');
    runBase = await isolatedStateBase('site-runs');
    state = await createStateDir(base);
    key = await generateKeyPair(tools.sshKeygen, join(state.path, 'user_ed25519'), 'site-user');
    site = await startTopology(new LocalBackend(tools), SITE, { stateDir: state.path, clientKey: key, clock: () => performance.now() });
    knownHosts = join(state.path, 'site_known_hosts');
    await writeFile(knownHosts, [...site.hosts.values()].flatMap((h) => h.hostKeys.map((k) => `[${h.endpoint.address}]:${h.endpoint.port} ${k}`)).join('\n') + '\n');
    out = join(state.path, 'reports');
    await mkdir(out);
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(runBase), [], 'the runs left nothing running');
    await site?.[Symbol.asyncDispose]();
    await state?.[Symbol.asyncDispose]();
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base, runBase);
  });

  /** A stand-in as a scenario names a site's server: `--set hosts.X.external=<this>`. */
  const external = (name: keyof typeof SITE, withDir = true, knownHostsFile = knownHosts) => {
    const h = site.host(name);
    return `{address: "${h.endpoint.address}", port: ${h.endpoint.port}, user: ${h.user}, identity: "${key.privatePath}", known_hosts: "${knownHostsFile}"${withDir ? `, dir: "${h.dataRoot}"` : ''}}`;
  };
  const drops = async (name: keyof typeof SITE) => {
    await site.host(name).syncLog();
    return site.host(name).log!.snapshot().maxstartups_drops;
  };
  /** What a run left in a stand-in's folder: nothing, once it stopped. */
  const leftIn = async (name: keyof typeof SITE) => (await readdir(site.host(name).dataRoot)).filter((f) => f.startsWith('run-'));
  const run = (args: string[]) => runCli(['run', ...args], { XFERBENCH_STATE_DIR: runBase });
  const transfersOf = async (dir: string) => (await readJsonl(join(dir, 'results.jsonl'))).filter((r) => r.type === 'transfer') as unknown as TransferRecord[];
  const cellsOf = async (dir: string) => (await readJsonl(join(dir, 'results.jsonl'))).filter((r) => r.type === 'cell') as unknown as CellRecord[];
  const SMALL = ['--set', 'matrix.concurrency=[5,30]', '--set', 'repeat=1', '--set', 'dataset.files=30', '--set', 'dataset.size=64KiB'];

  it('maxstartups.yaml against a site: drops the clients saw are the ones its sshd logged, starts paced, its counters said unobserved, nothing left there', async () => {
    const before = await drops('target');
    const dir = join(out, 'maxstartups-site');
    const r = await run([scenarioPath('maxstartups'), '--external', '--set', `hosts.target.external=${external('target')}`, ...SMALL, '-o', dir]);
    assert.equal(r.exitCode, 0, String(r.stderr) + String(r.stdout));
    assert.match(String(r.stdout), /server side not observed on target/);
    assert.match(String(r.stdout), new RegExp(`paced to ${EXTERNAL_CAPS.startsPerSecond}/s after a burst of ${EXTERNAL_CAPS.burst}`));
    const transfers = await transfersOf(dir);
    assert.equal(transfers.length, 60);
    // The clients' classes stand alone here; the site's own log, which the run never saw, agrees.
    const classed = transfers.flatMap((t) => t.attempts).filter((a) => a.classes.includes('maxstartups_drop')).length;
    assert.equal(classed, (await drops('target')) - before, 'client-classed drops = drops the stand-in logged');
    assert.equal(transfers.filter((t) => t.status !== 'ok' && !t.classes.includes('maxstartups_drop')).length, 0, 'every loss is a MaxStartups drop');
    for (const c of await cellsOf(dir)) {
      assert.deepEqual(c.sshd, {}, 'no sshd counters for a server whose log is not read');
      assert.deepEqual(c.sshd_unobserved, ['target']);
      assert.equal(c.paced?.per_s, EXTERNAL_CAPS.startsPerSecond);
      // The pace's invariant: after the burst, each start waits its turn (10/s: 100 ms apart).
      const asked = transfers.filter((t) => t.cell === c.cell).flatMap((t) => t.attempts.map((a) => a.start_ms - (a.launch_lag_ms ?? 0))).sort((a, b) => a - b);
      const gap = 1000 / EXTERNAL_CAPS.startsPerSecond;
      for (let k = EXTERNAL_CAPS.burst; k < asked.length; k++) assert.ok(asked[k]! - asked[0]! >= (k - EXTERNAL_CAPS.burst + 1) * gap - 5, `${c.cell}: start ${k} at ${asked[k]! - asked[0]!} ms`);
    }
    const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as { cells: { repeats: { sshd_maxstartups_drops: number | null }[] }[] };
    assert.ok(summary.cells.every((c) => c.repeats.every((x) => x.sshd_maxstartups_drops === null)), 'unknown, not zero');
    assert.deepEqual(await leftIn('target'), [], 'the run folder and all it made are gone');

    // The model (this machine's sshd, same limits) beside the site: compare says what cannot be compared.
    const model = join(out, 'maxstartups-model');
    assert.equal((await run([scenarioPath('maxstartups'), ...SMALL, '-o', model])).exitCode, 0);
    const cmp = await runCli(['compare', model, dir], {});
    assert.match(String(cmp.stdout), /concurrency=30[\s\S]*sshd drops: \d+ -> not observed/);
  });

  it('jump.yaml through an external head: the head only forwards, the target runs only the transfers\' own server side', async () => {
    // Each stand-in logs the command of every session its user opens, then runs it as asked.
    const logged = async (name: keyof typeof SITE) => {
      const log = join(state.path, `${name}-commands.log`);
      const script = join(state.path, `${name}-command.sh`);
      await writeFile(log, '');
      await writeFile(script, `#!/bin/sh\nprintf '%s\\n' "$SSH_ORIGINAL_COMMAND" >> '${log}'\ncase "$SSH_ORIGINAL_COMMAND" in internal-sftp) exec /usr/lib/openssh/sftp-server ;; esac\nexec /bin/sh -c "$SSH_ORIGINAL_COMMAND"\n`);
      await chmod(script, 0o755);
      const before = await site.host(name).control!.setAuthorizedKeys(`command="${script}" ${key.publicKey}\n`);
      return { log, restore: () => site.host(name).control!.setAuthorizedKeys(before) };
    };
    const head = await logged('head');
    const target = await logged('target');
    try {
      const dir = join(out, 'jump-site');
      const r = await run([scenarioPath('jump'), '--external', '--set', `hosts.head.external=${external('head', false)}`, '--set', `hosts.target.external=${external('target')}`, '--set', 'dataset.files=20', '--set', 'repeat=1', '-o', dir]);
      // The head's limit is not the scenario's model: its drops may fail the threshold of the raised cell.
      assert.ok(r.exitCode === 0 || r.exitCode === 1, String(r.stderr) + String(r.stdout));
      const transfers = await transfersOf(dir);
      assert.equal(transfers.length, 40);
      assert.ok(transfers.some((t) => t.status === 'ok'));
      assert.equal(await readFile(head.log, 'utf8'), '', 'no session, no command on the jump host');
      const commands = (await readFile(target.log, 'utf8')).split('\n').filter(Boolean);
      const attempts = transfers.flatMap((t) => t.attempts).filter((a) => a.exit_code === 0).length;
      assert.ok(commands.length >= attempts, `${commands.length} sessions for ${attempts} transfers`);
      const other = commands.filter((c) => c !== 'internal-sftp' && !/^rsync --server /.test(c));
      assert.deepEqual(other, [], 'only rsync\'s server side and SFTP ran on the target');
      assert.deepEqual(await leftIn('target'), []);
    } finally {
      await head.restore();
      await target.restore();
    }
  });

  it('pipeline-v1 staging in from an external host through an external head: invariants hold and the site is left as found', async () => {
    const dir = join(out, 'pipeline-site');
    const args = [scenarioPath('pipeline-v1'), '--external', '--set', `hosts.head.external=${external('head', false)}`, '--set', `hosts.user.external=${external('target')}`,
      '--set', 'hosts.archive={}', '--set', 'pipeline.stage_out={to: archive, commit: temp-rename}', '--set', 'matrix={pipeline.strategy: [per-file, tree]}', '--set', 'repeat=1', '-o', dir];
    // 32 ranks at once through someone's head node is above the cap: refused before anything is written.
    const refused = await run(args);
    assert.equal(refused.exitCode, 2);
    assert.match(String(refused.stderr), /pipeline\.stage_in.*32 at once through external host "user", "head" is above 30/);
    await assert.rejects(readdir(dir));
    const r = await run([...args, '--set', 'pipeline.stage_in.concurrency=16']);
    assert.equal(r.exitCode, 0, String(r.stderr) + String(r.stdout));
    assert.match(String(r.stdout), /invariants: all held/);
    const summary = JSON.parse(await readFile(join(dir, 'summary.json'), 'utf8')) as { pipeline: { violations: unknown[] }; overall: { silent_drops: number } };
    assert.deepEqual(summary.pipeline.violations, []);
    assert.equal(summary.overall.silent_drops, 0);
    assert.deepEqual(await leftIn('target'), []);
  });

  it('classes forced drops as maxstartups_drop, each one the site logged (API, one connection held on a 1:100:1 server)', async () => {
    const loaded = await loadScenario(scenarioPath('maxstartups'), { sets: [`hosts.target.external=${external('tight')}`, 'matrix.concurrency=[1]', 'repeat=1', 'dataset.files=10', 'dataset.size=16KiB', 'transfer.retries=0'] });
    const before = await drops('tight');
    let holder: { release(): void } | undefined;
    let seen = 0;
    const release = () => holder?.release();
    try {
      const result = await runScenario(loaded, {
        external: true,
        outDir: join(out, 'forced'),
        onEvent: (e) => {
          // Hosts up (the run's own SFTP session is logged in): from now on the site drops every new
          // connection. The run waits here until sshd has counted the held one (its banner came).
          if (e.type === 'topology_started') {
            holder = holdStartupSlot(site.host('tight').endpoint);
          }
          if (e.type === 'transfer' && ++seen === 3) release();
        },
      });
      // In the order they started (records of failed transfers are written when their cell ends).
      const transfers = (await transfersOf(result.reportDir)).sort((a, b) => a.start_ms - b.start_ms);
      for (const t of transfers.slice(0, 3)) assert.deepEqual([t.status, t.classes], ['failed', ['maxstartups_drop']], t.attempts[0]!.stderr_tail);
      assert.equal(transfers.at(-1)!.status, 'ok', 'released: the site accepts again');
      const classed = transfers.filter((t) => t.classes.includes('maxstartups_drop')).length;
      assert.equal(classed, (await drops('tight')) - before);
    } finally {
      release();
    }
  });

  it('refuses, with nothing written: a run without --external, a known_hosts without the server; a changed host key stops it before any transfer', async () => {
    const args = (kh: string) => [scenarioPath('maxstartups'), '--set', `hosts.target.external=${external('target', true, kh)}`, '--set', 'matrix.concurrency=[5]', '--set', 'repeat=1', '--set', 'dataset.files=5'];
    const noFlag = join(out, 'no-flag');
    const r1 = await run([...args(knownHosts), '-o', noFlag]);
    assert.equal(r1.exitCode, 2);
    assert.match(String(r1.stderr), /aims load at servers xferbench did not start \(target: root@127\.0\.0\.\d+:\d+\); run it with --external/);
    await assert.rejects(readdir(noFlag));

    const t = site.host('target').endpoint;
    const lines = (await readFile(knownHosts, 'utf8')).split('\n').filter(Boolean);
    const others = join(state.path, 'others_known_hosts');
    await writeFile(others, lines.filter((l) => !l.startsWith(`[${t.address}]:${t.port} `)).join('\n') + '\n');
    const missing = join(out, 'missing');
    const r2 = await run([...args(others), '--external', '-o', missing]);
    assert.equal(r2.exitCode, 2);
    assert.match(String(r2.stderr), new RegExp(`hosts\\.target\\.external\\.known_hosts: .* has no key for \\[${t.address}\\]:${t.port}; .* never trusts one on first use`));
    await assert.rejects(readdir(missing));

    // Another server's key pinned for the target's address: the login is refused, no transfer runs.
    const h = site.host('head').endpoint;
    const changed = join(state.path, 'changed_known_hosts');
    await writeFile(changed, lines.filter((l) => l.startsWith(`[${h.address}]:${h.port} `)).map((l) => l.replace(`[${h.address}]:${h.port}`, `[${t.address}]:${t.port}`)).join('\n') + '\n');
    const wrong = join(out, 'wrong-key');
    const r3 = await run([...args(changed), '--external', '-o', wrong]);
    assert.equal(r3.exitCode, 2);
    assert.match(String(r3.stderr), new RegExp(`the server at ${t.address.replace(/\./g, '\\.')}:${t.port} offered a host key its known_hosts entry does not pin`));
    assert.deepEqual(await transfersOf(wrong), []);
    assert.deepEqual(await leftIn('target'), []);
  });
});
