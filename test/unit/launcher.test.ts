import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Launcher } from '../../src/process/launcher.js';
import { isAlive } from '../../src/process/process-tree.js';
import { niceOf } from '../../src/process/cpu-share.js';
import { removeAll, tempDir } from '../helpers/harness.js';

const sh = (script: string, extra: Partial<Parameters<Launcher['run']>[0]> = {}) => ({ file: '/bin/sh', args: ['-c', script], ...extra });

describe('launcher (real processes)', { timeout: 60_000 }, () => {
  let launcher: Launcher;
  let dir: string;
  beforeAll(async () => {
    launcher = await Launcher.start();
    dir = await tempDir('launcher');
  });
  afterAll(async () => {
    await launcher.stop();
    await removeAll(dir);
  });

  it('reports exit code, stderr and times on the performance.now() clock', async () => {
    const before = performance.now();
    const r = await launcher.run(sh('echo oops >&2; exit 3'));
    assert.equal(r.exitCode, 3);
    assert.equal(r.signal, null);
    assert.equal(r.stderr, 'oops\n');
    assert.ok(r.startMs >= before - 1 && r.endMs >= r.startMs && r.endMs <= performance.now() + 1, `${before} <= ${r.startMs} <= ${r.endMs}`);
  });

  it('runs at the highest priority it may take, and its commands at the harness\'s own', async () => {
    const self = niceOf(process.pid)!;
    // With CAP_SYS_NICE (root here) it raises itself to -20; without, it stays where it started.
    const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)$/m.exec(await readFile('/proc/self/status', 'utf8'))![1]}`);
    const capable = ((capEff >> 23n) & 1n) === 1n; // CAP_SYS_NICE
    assert.equal(niceOf(launcher.pid!), capable ? -20 : self);
    const r = await launcher.run(sh('cut -d" " -f19 /proc/self/stat >&2'));
    assert.equal(r.stderr.trim(), String(self));
  });

  it('runs in a session of its own, and so does each command (a CPU share each under autogroup)', async () => {
    // /proc/PID/stat field 6 is the session id: a session leader's is its own pid.
    const session = (stat: string) => stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3];
    assert.equal(session(await readFile(`/proc/${launcher.pid}/stat`, 'utf8')), String(launcher.pid));
    const r = await launcher.run(sh('echo $$ $(cut -d" " -f6 /proc/self/stat) >&2'));
    const [pid, sid] = r.stderr.trim().split(' ');
    assert.equal(sid, pid);
    assert.notEqual(sid, String(launcher.pid));
  });

  it('passes argv as given, without a shell: spaces, quotes and $ stay literal', async () => {
    const out = join(dir, 'argv');
    const r = await launcher.run({ file: '/bin/sh', args: ['-c', 'printf "%s|" "$@" > "$0"', out, 'a b', "'q'", '$(touch x)', ''] });
    assert.equal(r.exitCode, 0);
    assert.equal(await readFile(out, 'utf8'), "a b|'q'|$(touch x)||");
  });

  it('feeds input on stdin, and /dev/null without it', async () => {
    assert.equal((await launcher.run(sh('cat >&2', { input: 'batch line\n' }))).stderr, 'batch line\n');
    assert.equal((await launcher.run(sh('cat >&2'))).stderr, '');
  });

  it('reports a program that cannot be executed as an error, not an exit code', async () => {
    const r = await launcher.run({ file: '/nonexistent/rsync', args: [] });
    assert.equal(r.exitCode, null);
    assert.match(r.error ?? '', /No such file or directory/);
  });

  it('times out with SIGTERM, and SIGKILLs what ignores it', async () => {
    const r = await launcher.run({ file: '/bin/sleep', args: ['10'], timeoutMs: 200 });
    assert.deepEqual([r.timedOut, r.signal, r.canceled], [true, 'SIGTERM', false]);
    assert.ok(r.endMs - r.startMs < 2000);
    const stubborn = await launcher.run(sh('trap "" TERM; sleep 10', { timeoutMs: 100 }));
    assert.deepEqual([stubborn.timedOut, stubborn.signal], [true, 'SIGKILL']);
  });

  it('cancels on abort, before or while the command runs', async () => {
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 100);
    const r = await launcher.run({ file: '/bin/sleep', args: ['10'], signal: ac.signal });
    assert.deepEqual([r.canceled, r.signal], [true, 'SIGTERM']);
    const early = await launcher.run({ file: '/bin/sleep', args: ['10'], signal: AbortSignal.abort() });
    assert.equal(early.canceled, true);
  });

  it('does not wait for a descendant that keeps stderr open (a ProxyJump or ControlPersist child)', async () => {
    const r = await launcher.run(sh('echo before >&2; sleep 5 & exit 0'));
    assert.equal(r.stderr, 'before\n');
    assert.ok(r.endMs - r.startMs < 1000, `${r.endMs - r.startMs} ms`);
  });

  it('has N commands running at once when asked for N at once', async () => {
    const results = await Promise.all(Array.from({ length: 100 }, () => launcher.run({ file: '/bin/sleep', args: ['1'] })));
    const lastStart = Math.max(...results.map((r) => r.startMs));
    const firstEnd = Math.min(...results.map((r) => r.endMs));
    assert.ok(lastStart < firstEnd, 'the 100th started before the first ended');
  });

  it('ends its commands when the harness goes away (its stdin closes)', async () => {
    const own = await Launcher.start();
    const pidFile = join(dir, 'pid');
    const running = own.run(sh(`echo $$ > ${pidFile}; exec sleep 30`));
    let pid = 0;
    for (let i = 0; i < 100 && !pid; i++) {
      pid = Number(await readFile(pidFile, 'utf8').catch(() => '0')) || 0;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.ok(pid > 0 && isAlive(pid));
    await own.stop();
    await own.stop(); // idempotent
    assert.equal(isAlive(pid), false);
    assert.equal((await running).signal, 'SIGTERM', 'the command is reported as ended, not lost');
  });
});
