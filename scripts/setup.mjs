#!/usr/bin/env node
// Idempotent set-up, run before `npm run demo` and `npm test`: system programs, npm packages,
// build. Plain Node with no dependencies, because it runs before `npm ci`. Fast when all is present.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, statSync, writeFileSync, rmSync, chmodSync } from 'node:fs';
import { delimiter, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (msg) => console.error(`setup: ${msg}`);

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    say(`failed: ${cmd} ${args.join(' ')} (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

function which(program) {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  for (const dir of dirs.filter(Boolean)) {
    try {
      accessSync(join(dir, program), constants.X_OK);
      return join(dir, program);
    } catch {
      // keep looking
    }
  }
  return undefined;
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 11)) {
  say(`Node.js ${process.versions.node} is too old; xferbench needs 20.11 or newer`);
  process.exit(1);
}

// 1. System programs: OpenSSH server and client, rsync, perl (the launcher and the connector); with --browser (the test suite), the
//    Chromium that opens report.html in the browser test; with --clients, fpsync, lftp and rclone.
const needed = { sshd: 'openssh-server', ssh: 'openssh-client', 'ssh-keygen': 'openssh-client', scp: 'openssh-client', sftp: 'openssh-client', rsync: 'rsync' };
if (process.argv.includes('--browser') && !process.env.CHROMIUM_PATH) needed.chromium = 'chromium';
// With --clients (the test suite): third-party transfer clients the shipped scenarios drive.
if (process.argv.includes('--clients')) Object.assign(needed, { fpsync: 'fpart', lftp: 'lftp', rclone: 'rclone' });
// With --slurm (the test suite): the daemons and client commands of executor: slurm's private cluster.
if (process.argv.includes('--slurm')) Object.assign(needed, { slurmctld: 'slurmctld', slurmd: 'slurmd', srun: 'slurm-client' });
const missing = [...new Set(Object.entries(needed).filter(([p]) => !which(p)).map(([, pkg]) => pkg))];
// The transfer launcher is a Perl script; Time::HiRes is in Debian's perl, not the essential perl-base.
if (spawnSync('perl', ['-MTime::HiRes', '-MPOSIX', '-e', '1']).status !== 0) missing.push('perl');
// Every ssh connects through a Perl connector that hands ssh its socket (docs/drop-agreement.md).
if (spawnSync('perl', ['-MSocket::MsgHdr', '-e', '1']).status !== 0) missing.push('libsocket-msghdr-perl');
if (missing.length > 0) {
  const command = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  const isRoot = process.getuid?.() === 0;
  if (!isRoot || !which('apt-get')) {
    say(`missing ${missing.join(', ')}. Install with:\n  sudo ${command}\n(or your system's package manager), then run this again.`);
    process.exit(1);
  }
  say(`installing ${missing.join(', ')} with apt-get`);
  // Keep the packages from starting system services (sshd on port 22, munged, slurmd): we only want the binaries.
  const policy = '/usr/sbin/policy-rc.d';
  const ownPolicy = !existsSync(policy);
  if (ownPolicy) {
    writeFileSync(policy, '#!/bin/sh\n# written by xferbench setup during apt-get install; removed afterwards\nexit 101\n');
    chmodSync(policy, 0o755);
  }
  try {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    run('apt-get', ['update'], { env });
    run('apt-get', ['install', '-y', '--no-install-recommends', ...missing], { env });
  } finally {
    if (ownPolicy) rmSync(policy, { force: true });
  }
}

// 2. npm packages, when missing or older than the lock file.
const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(marker) || statSync(marker).mtimeMs < statSync(lock).mtimeMs) {
  say('installing npm packages (npm ci)');
  const ci = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { stdio: ['ignore', 'inherit', 'pipe'], cwd: root, encoding: 'utf8' });
  if (ci.status !== 0) {
    // rollup (under vitest's vite) lists a binary per platform as optional. A registry that
    // serves only some of them (as here) leaves the rest out of the lock file, and npm ci then
    // refuses the lock; npm install takes the same locked versions and skips what it cannot get.
    const reason = ci.stderr.match(/npm error (Missing: .*)/)?.[1] ?? ci.stderr.match(/npm error (.*)/)?.[1] ?? `exit ${ci.status}`;
    say(`npm ci refused (${reason}); installing the locked versions with npm install instead`);
    run('npm', ['install', '--no-audit', '--no-fund', '--no-save']);
  }
} else {
  // 3. Build (incremental: about a second when nothing changed), then the bundled command line
  //    (scripts/bundle-cli.mjs, a fraction of a second). npm ci already built both via prepare.
  run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json']);
  run(process.execPath, [join(root, 'scripts', 'bundle-cli.mjs')]);
}
// 4. With --containers (the test suite): the container engine for backend: container, where we
//    may install it. Elsewhere the container tests say they are skipped and why.
if (process.argv.includes('--containers')) {
  if (process.getuid?.() === 0 && which('apt-get')) run('bash', [join(root, 'scripts', 'container-setup.sh')]);
  else if (!which('podman') && !which('docker')) say('no docker or podman: the container backend tests will be skipped (sudo bash scripts/container-setup.sh sets up Podman)');
}
const versions = spawnSync(which('ssh'), ['-V'], { encoding: 'utf8' }).stderr.trim();
say(`ready (${versions}; ${spawnSync('rsync', ['--version'], { encoding: 'utf8' }).stdout.split('\n')[0]})`);
