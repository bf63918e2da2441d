import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { freePort } from '../../src/hosts/loopback-address.js';
import { advise } from '../../src/probe/advise.js';
import { renderProbe } from '../../src/probe/render-probe.js';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findTools, type OpenSshTools } from '../../src/ssh/openssh-tools.js';
import { LocalBackend } from '../../src/hosts/local/local-backend.js';
import { descendantPids } from '../../src/process/process-tree.js';
import { createStateDir } from '../../src/hosts/state-dir.js';
import { generateKeyPair } from '../../src/ssh/ssh-keys.js';
import { startTopology } from '../../src/hosts/topology.js';
import { probeHost, type ProbeResult } from '../../src/probe/probe.js';
import { isolatedStateBase, leftovers, processesMentioning, readJsonl, removeAll, runCli } from '../helpers/harness.js';

/** Settings the probe must recover: MaxSessions exactly, start and full within 1, rate within 20 points. */
const HOSTS = {
  a: { MaxSessions: 2, start: 3, rate: 50, full: 6 },
  b: { MaxSessions: 5, start: 5, rate: 30, full: 10 },
  c: { MaxSessions: 8, start: 2, rate: 100, full: 2 },
} as const;

describe('probe: a live sshd\'s limits from the outside', () => {
  let tools: OpenSshTools;
  let base: string;
  beforeAll(async () => {
    tools = await findTools();
    base = await isolatedStateBase('probe');
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base);
  });

  it('recovers MaxSessions exactly and MaxStartups start:rate:full within tolerance on three hosts, leaving no connection open', async () => {
    await using state = await createStateDir(base);
    const clientKey = await generateKeyPair(tools.sshKeygen, join(state.path, 'client_ed25519'), 'probe-test');
    const specs = Object.fromEntries(Object.entries(HOSTS).map(([name, h]) => [name, { sshd: { MaxSessions: String(h.MaxSessions), MaxStartups: `${h.start}:${h.rate}:${h.full}` } }]));
    await using topo = await startTopology(new LocalBackend(tools), specs, { stateDir: state.path, clientKey, clock: () => 0 });
    const knownHosts = join(state.path, 'probe_known_hosts');
    await writeFile(knownHosts, [...topo.hosts.values()].flatMap((h) => h.hostKeys.map((k) => `[${h.endpoint.address}]:${h.endpoint.port} ${k}`)).join('\n') + '\n');

    type Advised = { client: { setting: string }[]; transfer: { mux: string; concurrency: number }; probe: ProbeResult; verify: { files: number; failed: number; failure_rate: number; silent_drops: number; promised: number; kept: boolean; report: string } };
    let advised: Advised | undefined;
    const remote = join(state.path, 'verify-remote');
    await mkdir(remote);
    for (const [name, want] of Object.entries(HOSTS)) {
      const host = topo.host(name);
      // Host a as a user would: probe, advise and verify the advice against it in one command.
      let r: ProbeResult;
      if (name === 'a') {
        const cli = await runCli(['advise', '--host', `${host.user}@${host.endpoint.address}:${host.endpoint.port}`, '-i', clientKey.privatePath, '--known-hosts', knownHosts, '--files', '30', '--size', '16KiB', '--json', '--verify', '--remote-dir', join(remote, 'runs'), '-o', join(state.path, 'advised-out')], { XFERBENCH_STATE_DIR: base });
        assert.equal(cli.exitCode, 0, String(cli.stderr) + String(cli.stdout));
        advised = JSON.parse(String(cli.stdout)) as Advised;
        r = advised.probe;
      } else {
        r = await probeHost({ address: host.endpoint.address, port: host.endpoint.port, user: host.user, privateKeyPath: clientKey.privatePath, hostKeys: host.hostKeys }, { max: 20 });
      }
      const s = r.max_startups;
      const seen = `${name}: ${JSON.stringify({ sessions: r.max_sessions, start: s.start, rate: s.rate, full: s.full })}`;
      assert.equal(r.max_sessions, want.MaxSessions, seen);
      assert.match(r.max_sessions_refusal!, /Channel open failure/, seen);
      assert.ok(s.start !== null && Math.abs(s.start - want.start) <= 1, seen);
      assert.ok(s.full !== null && Math.abs(s.full - want.full) <= 1, seen);
      assert.ok(s.rate !== null && Math.abs(s.rate - want.rate) <= 20, seen);
      assert.ok(r.load.max_held <= 30 && r.load.connections_opened < 1000, seen);
      assert.match(r.banner, /^SSH-2\.0-OpenSSH_/);

      // Nothing it opened is still open: the host's sshd has no connection process left.
      const [listener] = await processesMentioning([`${join(state.path, 'topology', 'hosts', name)}/sshd_config`]);
      const pid = Number(listener!.split(':')[0]);
      const deadline = Date.now() + 3000;
      while ((await descendantPids(pid)).length > 0 && Date.now() < deadline) await sleep(50);
      assert.deepEqual(await descendantPids(pid), [], `${name}: no connection left open`);
    }

    // The advice for host a, verified against host a itself: no file dropped, the run folder gone.
    const out = advised!;
    assert.match(out.client[0]!.setting, new RegExp(`^transfer\\.mux: ${out.transfer.mux}, transfer\\.concurrency: ${out.transfer.concurrency}$`));
    assert.deepEqual([out.verify.files, out.verify.failed, out.verify.silent_drops, out.verify.kept], [30, 0, 0, true]);
    assert.ok(out.verify.failure_rate <= out.verify.promised);
    const records = await readJsonl(join(out.verify.report, 'results.jsonl'));
    const verification = records.find((x) => x.type === 'verification') as { counts: { ok: number } };
    assert.equal(verification.counts.ok, 30, 'every file verified on the probed host');
    assert.deepEqual(await readdir(remote), [], 'the run folder and the folder it made are removed');
  });

  it('through a jump host: the target\'s limits, and whether a ControlMaster works there; with MaxSessions 0 it does not', async () => {
    await using state = await createStateDir(base);
    const key = await generateKeyPair(tools.sshKeygen, join(state.path, 'k'), 'probe-test');
    const specs = { jump: { sshd: {} }, t: { sshd: { MaxSessions: '3', MaxStartups: '4:50:8' } }, u: { sshd: { MaxSessions: '0' } } };
    await using topo = await startTopology(new LocalBackend(tools), specs, { stateDir: state.path, clientKey: key, clock: () => 0 });
    const knownHosts = join(state.path, 'kh');
    await writeFile(knownHosts, [...topo.hosts.values()].flatMap((h) => h.hostKeys.map((k) => `[${h.endpoint.address}]:${h.endpoint.port} ${k}`)).join('\n') + '\n');
    const dest = (n: string) => `${topo.host(n).user}@${topo.host(n).endpoint.address}:${topo.host(n).endpoint.port}`;
    const jumpLogins = () => topo.host('jump').log!.snapshot().accepted_logins;

    const cli = await runCli(['probe', dest('t'), '-J', dest('jump'), '-i', key.privatePath, '--known-hosts', knownHosts, '--max', '12', '--json'], {});
    assert.equal(cli.exitCode, 0, String(cli.stderr));
    const r = JSON.parse(String(cli.stdout)) as ProbeResult;
    const seen = JSON.stringify({ sessions: r.max_sessions, ...r.max_startups, levels: undefined, mux: r.mux });
    assert.equal(r.via, dest('jump'));
    assert.equal(r.max_sessions, 3, seen);
    assert.ok(Math.abs(r.max_startups.start! - 4) <= 1 && Math.abs(r.max_startups.full! - 8) <= 1, seen);
    assert.deepEqual([r.mux.ok, typeof r.mux.setup_ms], [true, 'number'], seen);
    // Everything went through the jump host: ssh2's one connection, and the master's hop.
    assert.equal(jumpLogins(), 2, 'two logins on the jump host');

    // The advice verified through the same jump host: the run's SFTP session and every transfer go through it.
    const probed = join(state.path, 'probe-t.json');
    await writeFile(probed, String(cli.stdout));
    const remote = join(state.path, 'remote');
    await mkdir(remote);
    const verify = await runCli(['advise', '--probe', probed, '--files', '12', '--size', '8KiB', '--json', '--verify', '-i', key.privatePath, '--known-hosts', knownHosts, '--remote-dir', remote, '-o', join(state.path, 'verify-out')], { XFERBENCH_STATE_DIR: base });
    assert.equal(verify.exitCode, 0, String(verify.stderr) + String(verify.stdout));
    const v = (JSON.parse(String(verify.stdout)) as { transfer: { mux: string }; verify: { files: number; failed: number; kept: boolean } });
    assert.deepEqual([v.verify.files, v.verify.failed, v.verify.kept], [12, 0, true]);
    assert.ok(jumpLogins() >= 2 + 1 + (v.transfer.mux === 'off' ? 12 : 1), `logins on the jump host: ${jumpLogins()}`);
    assert.deepEqual(await readdir(remote), []);

    const u = topo.host('u');
    const noSessions = await probeHost({ address: u.endpoint.address, port: u.endpoint.port, user: u.user, privateKeyPath: key.privatePath, hostKeys: u.hostKeys }, { max: 3, trials: 2 });
    assert.equal(noSessions.max_sessions, 0);
    assert.equal(noSessions.mux.ok, false);
    assert.match(noSessions.mux.detail, /could not use it/);
    // No master or client left behind, no connection open on any host.
    for (const name of ['jump', 't', 'u']) {
      const [listener] = await processesMentioning([`${join(state.path, 'topology', 'hosts', name)}/sshd_config`]);
      const pid = Number(listener!.split(':')[0]);
      const deadline = Date.now() + 3000;
      while ((await descendantPids(pid)).length > 0 && Date.now() < deadline) await sleep(50);
      assert.deepEqual(await descendantPids(pid), [], `${name}: no connection left open`);
    }
    assert.deepEqual(await processesMentioning(['xb-probe-']), []);
  });

  it('a hardened host without an sftp subsystem: MaxSessions counted on plain session channels, sftp said on its own line, a master still advised', async () => {
    await using state = await createStateDir(base);
    const key = await generateKeyPair(tools.sshKeygen, join(state.path, 'k'), 'probe-test');
    await using topo = await startTopology(new LocalBackend(tools), { t: { sshd: { MaxSessions: '7', MaxStartups: '3:30:10' } } }, { stateDir: state.path, clientKey: key, clock: () => 0 });
    const t = topo.host('t');
    // The same host's configuration without its Subsystem line, on a port of its own: a real sshd.
    const config = await readFile(join(state.path, 'topology', 'hosts', 't', 'sshd_config'), 'utf8');
    const port = await freePort(t.endpoint.address);
    const hardened = join(state.path, 'hardened_sshd_config');
    await writeFile(hardened, config.replace(/^Subsystem .*\n/m, '').replace(/^ListenAddress .*$/m, `ListenAddress ${t.endpoint.address}:${port}`), { mode: 0o600 });
    assert.doesNotMatch(await readFile(hardened, 'utf8'), /Subsystem/);
    const sshd = spawn(tools.sshd!, ['-D', '-e', '-f', hardened], { stdio: ['ignore', 'ignore', 'pipe'] });
    await using _stop = { [Symbol.asyncDispose]: async () => { sshd.kill('SIGTERM'); if (sshd.exitCode === null) await once(sshd, 'exit'); } };
    let log = '';
    sshd.stderr!.on('data', (d: Buffer) => (log += d.toString()));
    const deadline = Date.now() + 10_000;
    while (!/Server listening/.test(log) && Date.now() < deadline) await sleep(50);
    assert.match(log, /Server listening/);

    const r = await probeHost({ address: t.endpoint.address, port, user: t.user, privateKeyPath: key.privatePath, hostKeys: t.hostKeys }, { max: 10, trials: 2 });
    assert.equal(r.max_sessions, 7, JSON.stringify(r));
    assert.match(r.max_sessions_refusal!, /Channel open failure/);
    assert.equal(r.sftp, false);
    assert.match(renderProbe(r), /^ {2}MaxSessions: 7 /m);
    assert.match(renderProbe(r), /^ {2}sftp subsystem: none/m);
    const a = advise(r, { files: 100, size: 1 << 20 });
    assert.match(a.client[0]!.setting, /^transfer\.mux: warm/, 'a master carries 6 sessions at once');
    assert.ok(a.caveats.some((c) => /no sftp subsystem/.test(c)), a.caveats.join('; '));
    // The probed host itself, with its Subsystem line: sftp is there.
    const full = await probeHost({ address: t.endpoint.address, port: t.endpoint.port, user: t.user, privateKeyPath: key.privatePath, hostKeys: t.hostKeys }, { max: 10, trials: 2 });
    assert.deepEqual([full.max_sessions, full.sftp], [7, true]);
  });

  it('refuses bad requests before opening anything: --max 0, above 30 without the flag, no known host key, an unreachable host, a refused key', async () => {
    await using state = await createStateDir(base);
    const key = await generateKeyPair(tools.sshKeygen, join(state.path, 'k'), 'probe-test');
    const other = await generateKeyPair(tools.sshKeygen, join(state.path, 'other'), 'probe-test');
    await using topo = await startTopology(new LocalBackend(tools), { t: { sshd: {} } }, { stateDir: state.path, clientKey: key, clock: () => 0 });
    const h = topo.host('t');
    const dest = `${h.user}@${h.endpoint.address}:${h.endpoint.port}`;
    const knownHosts = join(state.path, 'kh');
    await writeFile(knownHosts, h.hostKeys.map((k) => `[${h.endpoint.address}]:${h.endpoint.port} ${k}`).join('\n') + '\n');
    const empty = join(state.path, 'empty');
    const missing = join(state.path, 'no-such-file');
    const portOne = join(state.path, 'known_hosts-port-1');
    await writeFile(empty, '');
    for (const [args, message] of [
      [[dest, '-i', key.privatePath, '--known-hosts', knownHosts, '--max', '0'], /--max must be a whole number of at least 1/],
      [[dest, '-i', key.privatePath, '--known-hosts', knownHosts, '--max', '100'], /--i-administer-this-host/],
      [[dest, '-i', key.privatePath, '--known-hosts', knownHosts, '--rate', '500'], /above 50 per second: add --i-administer-this-host/],
      [[dest, '-i', key.privatePath, '--known-hosts', empty], /has no key for/],
      [[dest, '-J', `${h.user}@127.0.0.9:2`, '-i', key.privatePath, '--known-hosts', knownHosts], /has no key for \[127\.0\.0\.9\]:2/],
      [[dest, '-i', `${key.privatePath} x`, '--known-hosts', knownHosts], /characters an ssh_config cannot carry/],
      [[`${h.user}@127.0.0.1:1`, '-i', key.privatePath, '--known-hosts', missing], /cannot read/],
      [['not a host!', '-i', key.privatePath, '--known-hosts', knownHosts], /is not \[user@\]host\[:port\]/],
      [[dest, '-i', other.privatePath, '--known-hosts', knownHosts, '--max', '3'], /cannot log in .*the key was refused/],
    ] as const) {
      const r = await runCli(['probe', ...args], {});
      assert.equal(r.exitCode, 2, `${args.join(' ')}: ${String(r.stderr)}`);
      assert.match(String(r.stderr), message);
      assert.doesNotMatch(String(r.stderr), /internal error|^\s+at /m);
    }
    for (const [args, message] of [
      [['--files', '1', '--size', '1KiB'], /either --probe RESULT.json or --host DESTINATION/],
      [['--host', dest, '--files', '1', '--size', '1KiB'], /give -i KEY and --known-hosts FILE/],
      [['--probe', empty, '--files', '1', '--size', '1KiB', '--verify'], /give -i KEY and --known-hosts FILE/],
      [['--probe', empty, '--files', '1', '--size', '1KiB'], /cannot use .*empty/],
    ] as const) {
      const r = await runCli(['advise', ...args], {});
      assert.equal(r.exitCode, 2, `advise ${args.join(' ')}: ${String(r.stderr)}`);
      assert.match(String(r.stderr), message);
    }
    await writeFile(portOne, `[127.0.0.1]:1 ${h.hostKeys[0]}\n`);
    const unreachable = await runCli(['probe', `${h.user}@127.0.0.1:1`, '-i', key.privatePath, '--known-hosts', portOne], {});
    assert.equal(unreachable.exitCode, 2);
    assert.match(String(unreachable.stderr), /did not answer with an SSH banner/);
  });
});
