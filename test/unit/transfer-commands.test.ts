import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { RsyncTool, shellWord } from '../../src/transfers/rsync-tool.js';
import { ScpTool } from '../../src/transfers/scp-tool.js';
import { SftpTool } from '../../src/transfers/sftp-tool.js';
import { CpTool } from '../../src/transfers/cp-tool.js';
import { laneSshOptions, renderLaneConfig, renderSshWrapper } from '../../src/transfers/ssh-invocation.js';
import { CommandTool, templateIssues } from '../../src/transfers/command-tool.js';
import { backoffDelay } from '../../src/transfers/backoff.js';
import { retryJitter } from '../../src/transfers/run-transfer.js';
import { containerCommandWrapper } from '../../src/hosts/container/container-exec.js';
import type { TransferJob } from '../../src/transfers/transfer-tool.js';

const ssh = { ssh: '/usr/bin/ssh', options: laneSshOptions('/tmp/xb-1/c0r1/l0.ssh_config') };
const push: TransferJob = { entry: { path: 'f', size: 1, seed: 1 }, source: { path: '/c/src/f' }, dest: { host: 'target', path: '/h/dest/f' }, ssh };
const pull: TransferJob = { ...push, source: { host: 'target', path: '/h/src/f' }, dest: { path: '/c/dest/f' } };

describe('transfer commands', () => {
  it('rsync passes ssh as an -e string of the program and the lane config, nothing of the scenario', () => {
    const cmd = new RsyncTool('/usr/bin/rsync', ['--timeout=30']).command(push);
    assert.deepEqual(cmd.args, ['-a', '-e', '/usr/bin/ssh -F /tmp/xb-1/c0r1/l0.ssh_config', '--timeout=30', '/c/src/f', 'target:/h/dest/f']);
    assert.equal(shellWord("it's"), `'it'\\''s'`);
  });
  it('scp takes the ssh options itself', () => {
    assert.deepEqual(new ScpTool('/usr/bin/scp').command(pull).args, ['-B', '-p', '-S', '/usr/bin/ssh', '-F', '/tmp/xb-1/c0r1/l0.ssh_config', 'target:/h/src/f', '/c/dest/f']);
  });
  it('sftp runs one batch command from stdin', () => {
    const up = new SftpTool('/usr/bin/sftp').command(push);
    assert.deepEqual(up.args.slice(0, 2), ['-b', '-']);
    assert.equal(up.args.at(-1), 'target');
    assert.equal(up.input, 'put -p "/c/src/f" "/h/dest/f"\n');
    assert.equal(new SftpTool('/usr/bin/sftp').command(pull).input, 'get -p "/h/src/f" "/c/dest/f"\n');
  });
  it('cp copies locally and refuses remote paths', () => {
    assert.deepEqual(new CpTool().command({ ...push, dest: { path: '/c/d/f' } }).args, ['-p', '/c/src/f', '/c/d/f']);
    assert.throws(() => new CpTool().command(push));
  });
});

describe('lane ssh_config per mux mode', () => {
  const base = { base: 'Host target\n  HostName 127.0.0.2\n', host: 'target', via: [] as string[], controlDir: '/tmp/xb/c1/l0', options: { ConnectTimeout: '10' } };
  const block = (text: string) => text.split('\n\n')[0]!.split('\n').slice(1);
  it('off disables multiplexing explicitly; scenario options follow, then the base config', () => {
    const text = renderLaneConfig({ ...base, mux: 'off' });
    assert.deepEqual(block(text), ['Host target', '  ControlMaster no', '  ControlPath none', '  ConnectTimeout 10']);
    assert.ok(text.endsWith(base.base));
  });
  it('cold lets clients race to become the master, with a persist backstop; jumps are ProxyJump', () => {
    assert.deepEqual(block(renderLaneConfig({ ...base, mux: 'cold', via: ['head', 'gw'] })), ['Host target', '  ProxyJump head,gw', '  ControlMaster auto', '  ControlPath /tmp/xb/c1/l0/%C', '  ControlPersist 30', '  ConnectTimeout 10']);
  });
  it('warm only uses an existing master', () => {
    assert.deepEqual(block(renderLaneConfig({ ...base, mux: 'warm', options: {} })), ['Host target', '  ControlMaster no', '  ControlPath /tmp/xb/c1/l0/%C']);
  });
  it('refuses a path or alias that could split a line', () => {
    assert.throws(() => renderLaneConfig({ ...base, mux: 'off', host: 'target\nProxyCommand x' }), /not safe/);
    assert.throws(() => laneSshOptions('/tmp/a b'), /not safe/);
  });
});

describe('backoff', () => {
  it('doubles per retry up to the cap, with full jitter', () => {
    assert.equal(backoffDelay(1, 100, 1000, () => 1), 100);
    assert.equal(backoffDelay(3, 100, 1000, () => 1), 400);
    assert.equal(backoffDelay(10, 100, 1000, () => 1), 1000);
    assert.equal(backoffDelay(3, 100, 1000, () => 0), 0);
  });

  it('draws its jitter from a seed per cell, repeat and file: the same every run, apart across files', () => {
    const delays = (cell: string, path: string) => {
      const random = retryJitter(cell, 1, path);
      return [1, 2, 3, 4, 5].map((k) => backoffDelay(k, 1000, 30_000, random));
    };
    assert.deepEqual(delays('c', 'file-000.bin'), delays('c', 'file-000.bin'));
    assert.notDeepEqual(delays('c', 'file-000.bin'), delays('c', 'file-001.bin'));
    // fault-sshd-restart.yaml (its test runs 30 files, the scenario 60): with 5 retries from 1 s,
    // every file waits longer in all than the head's sshd is down (2 s, and the restart), so
    // "with retries every one recovers" holds on every run, not most.
    const files = Array.from({ length: 60 }, (_, i) => `file-${String(i).padStart(3, '0')}.bin`);
    const least = Math.min(...files.map((f) => delays('transfer.retries=5', f).reduce((a, b) => a + b, 0)));
    assert.ok(least > 3000, `the least total wait is ${least} ms`);
  });
});

describe('commands inside a container', () => {
  const account = { name: 'u', uid: 1000, gid: 1000 };
  const rsync = { file: '/usr/local/bin/rsync', args: ['-a', 'x', 'y'] };
  it('enters the namespaces with nsenter as the login account, running the container\'s own program', () => {
    const wrap = containerCommandWrapper({ containerId: 'c1', pid: 4242, account, nsenter: '/usr/bin/nsenter', cli: '/usr/bin/podman' })!;
    const c = wrap(rsync, 5000);
    assert.equal(c.file, '/usr/bin/nsenter');
    assert.deepEqual(c.args, ['-t', '4242', '-m', '-u', '-i', '-n', '-r', '-w', '--setgid=1000', '--setuid=1000', '--', 'rsync', '-a', 'x', 'y']);
  });
  it('falls back to the engine CLI, bounded by timeout inside, with stdin only when there is input', () => {
    const wrap = containerCommandWrapper({ containerId: 'c1', pid: 0, account, cli: '/usr/bin/docker' })!;
    assert.deepEqual(wrap(rsync, 2500).args, ['exec', '--user', '1000:1000', 'c1', 'timeout', '-k', '2', '3s', 'rsync', '-a', 'x', 'y']);
    const sftp = wrap({ file: 'sftp', args: ['-b', '-', 'h'], input: 'put a b\n' });
    assert.deepEqual(sftp.args.slice(0, 2), ['exec', '-i']);
    assert.equal(sftp.input, 'put a b\n');
  });
  it('has no way in without either', () => {
    assert.equal(containerCommandWrapper({ containerId: 'c1', pid: 1, account }), undefined);
  });
});

describe('tool: command', () => {
  const job: TransferJob = { ...push, ssh: { ...ssh, configPath: '/tmp/xb-1/c0r1/l0.ssh_config', bin: '/tmp/xb-1/c0r1/l0.bin', via: ['head', 'gw'] } };
  it('replaces placeholders inside each argument, never re-splitting, behind env with the lane\'s ssh first on PATH', () => {
    const tool = new CommandTool('/usr/bin/env', '/usr/local/bin/stage', ['--to', '{dest_host}:{dest_path}', 'a b {file}', '-j{concurrency}', '-e', '{ssh} -x', '-J{via}'], 8);
    const c = tool.command(job);
    assert.equal(c.file, '/usr/bin/env');
    assert.match(c.args[0]!, /^PATH=\/tmp\/xb-1\/c0r1\/l0\.bin:/);
    assert.deepEqual(c.args.slice(1, 4), ['RSYNC_RSH=/tmp/xb-1/c0r1/l0.bin/ssh', 'GIT_SSH_COMMAND=/tmp/xb-1/c0r1/l0.bin/ssh', 'XFERBENCH_SSH_CONFIG=/tmp/xb-1/c0r1/l0.ssh_config']);
    assert.deepEqual(c.args.slice(4), ['/usr/local/bin/stage', '--to', 'target:/h/dest/f', 'a b f', '-j8', '-e', '/tmp/xb-1/c0r1/l0.bin/ssh -x', '-Jhead,gw']);
  });
  it('refuses unknown placeholders and a first item env(1) would not run as the program', () => {
    assert.deepEqual(templateIssues(['rsync', '{src}', '{secret}']).map((i) => i.index), [2]);
    assert.deepEqual(templateIssues(['A=1', 'touch', 'x']).map((i) => i.index), [0]);
    assert.deepEqual(templateIssues(['{ssh}', 'x']).map((i) => i.index), [0]);
    assert.deepEqual(templateIssues(['rsync', '-a', '{src}', '{dest}']), []);
    assert.deepEqual(templateIssues(['rsync', '--files-from={file_list}', '{src_dir}/', '{dest_dir}/'], 'batch'), []);
    assert.deepEqual(templateIssues(['rsync', '{src}', '{dest_dir}'], 'batch').map((i) => i.index), [1]);
  });
  it('a batch job names the folders and its list', () => {
    const tool = new CommandTool('/usr/bin/env', 'rsync', ['--files-from={file_list}', '{src_dir}/', '{dest_dir}/'], 4);
    const batch = { ...job, source: { path: '/c/src' }, dest: { host: 'target', path: '/h/dest' }, batch: { id: 'b0', entries: [job.entry], listFile: '/tmp/xb-1/c0r1/b0.files', workDir: '/tmp/xb-1/c0r1/b0.work' } };
    assert.deepEqual(tool.command(batch).args.slice(5), ['--files-from=/tmp/xb-1/c0r1/b0.files', '/c/src/', 'target:/h/dest/']);
    const lftp = new CommandTool('/usr/bin/env', 'lftp', ['-c', 'open sftp://{dest_host}; mirror -R -P {concurrency} {src_path} {dest_path}', '{work_dir}'], 4);
    assert.deepEqual(lftp.command(batch).args.slice(5), ['-c', 'open sftp://target; mirror -R -P 4 /c/src /h/dest', '/tmp/xb-1/c0r1/b0.work']);
  });
  it('the lane\'s ssh wrapper runs the real ssh by absolute path with the lane\'s config', () => {
    assert.equal(renderSshWrapper('/usr/bin/ssh', '/tmp/xb-1/l0.ssh_config').split('\n').at(-2), 'exec /usr/bin/ssh -F /tmp/xb-1/l0.ssh_config "$@"');
    assert.throws(() => renderSshWrapper('/usr/bin/ssh', '/tmp/a b'), /not safe/);
  });
});
