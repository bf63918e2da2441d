import { afterAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { cp, chmod, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { execa } from 'execa';
import { processesMentioning, REPO } from '../helpers/harness.js';

const USER = 'xferbench-test';
const isRoot = process.getuid?.() === 0;

/**
 * sshd and the harness must work for an ordinary user (no /run/sshd, no privilege separation,
 * its own home for state). As root, the suite runs the CLI as a dedicated unprivileged account;
 * otherwise the suite itself is unprivileged and runs the CLI directly.
 */
describe('as an ordinary user', () => {
  let app: string | undefined;
  let home = process.env.HOME ?? '';
  afterAll(async () => {
    assert.deepEqual(await processesMentioning([join(home, '.cache', 'xferbench')]), []);
    if (app) await rm(app, { recursive: true, force: true });
  });

  it('runs a scenario with sshd as that user', async () => {
    let prefix: string[] = [];
    let cwd = REPO;
    if (isRoot) {
      if ((await execa('id', [USER], { reject: false })).exitCode !== 0) {
        await execa('useradd', ['--create-home', '--shell', '/bin/sh', USER]);
      }
      home = (await execa('sh', ['-c', `getent passwd ${USER} | cut -d: -f6`])).stdout.trim();
      // The clone may live where others cannot read (e.g. /root): give the user its own copy.
      app = await mkdtemp(join(tmpdir(), 'xferbench-unpriv-'));
      await chmod(app, 0o755);
      // What the package ships (its "files"), as an install would have it.
      const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { files: string[] };
      for (const part of [...pkg.files, 'node_modules', 'package.json']) {
        await mkdir(dirname(join(app, part)), { recursive: true });
        await cp(join(REPO, part), join(app, part), { recursive: true });
      }
      await execa('chown', ['-R', USER, app]);
      prefix = ['runuser', '-u', USER, '--', 'env', `HOME=${home}`, `PATH=${process.env.PATH}`];
      cwd = app;
    }
    const out = join(app ?? (await mkdtemp(join(tmpdir(), 'xferbench-unpriv-'))), 'report');
    const args = [process.execPath, join(cwd, 'dist', 'cli.js'), 'run', join(cwd, 'scenarios', 'limits-raised.yaml'), '--out', out, '--quiet', '--json', '--set', 'dataset.files=20', '--set', 'dataset.size=8KiB', '--set', 'repeat=1'];
    const [file, ...rest] = [...prefix, ...args];
    const r = await execa(file!, rest, { reject: false, cwd });
    assert.equal(r.exitCode, 0, r.stderr);
    const summary = JSON.parse(r.stdout);
    assert.equal(summary.overall.ok, 20);
    assert.equal(summary.overall.failed, 0);

    // A fault that needs root is refused before anything starts, with the reason; one that does not is fine.
    const faulty = join(cwd, 'scenarios', 'fault-credential-expiry.yaml');
    const validate = (extra: string[]) => {
      const [f, ...a] = [...prefix, process.execPath, join(cwd, 'dist', 'cli.js'), 'validate', faulty, ...extra];
      return execa(f!, a, { reject: false, cwd });
    };
    assert.equal((await validate([])).exitCode, 0);
    const refused = await validate(['--set', 'faults=[{kind: disk_full, host: target, free: 1MiB}]']);
    assert.equal(refused.exitCode, 2, refused.stderr);
    assert.match(refused.stderr, /faults\[0\]\.kind.*disk_full needs root: it mounts a size-limited tmpfs/);
    if (!app) await rm(join(out, '..'), { recursive: true, force: true });
  });
});
