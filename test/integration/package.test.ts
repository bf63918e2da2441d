import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { REPO, removeAll, tempDir } from '../helpers/harness.js';

/**
 * The package as a user gets it: `npm pack`, installed into an empty project from the tarball
 * (its dependencies from the registry), then the CLI, the API and the vitest matchers loaded there.
 */
describe('the packed package', () => {
  let dir: string;
  let app: string;
  beforeAll(async () => {
    dir = await tempDir('pack');
    app = join(dir, 'app');
    await execa('npm', ['pack', '--pack-destination', dir, '--ignore-scripts'], { cwd: REPO });
    const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'))!;
    await execa('mkdir', [app]);
    await writeFile(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true, type: 'module' }));
    await execa('npm', ['install', '--no-audit', '--no-fund', join(dir, tarball)], { cwd: app });
  });
  afterAll(async () => {
    await removeAll(dir);
  });

  it('installs into an empty project and its CLI validates a shipped scenario', async () => {
    const bin = join(app, 'node_modules', '.bin', 'xferbench');
    const r = await execa(bin, ['validate', join(app, 'node_modules', 'xferbench', 'scenarios', 'maxstartups.yaml')], { cwd: app, reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.match(r.stdout, /maxstartups: 4 cell\(s\)/);
    const schema = await execa(bin, ['schema'], { cwd: app });
    assert.equal(JSON.parse(schema.stdout).title, 'xferbench scenario');
  });

  it('its CLI (the bundled one) runs a scenario: the launcher, the connector and sshd found in the installed package', async () => {
    const bin = join(app, 'node_modules', '.bin', 'xferbench');
    await writeFile(join(app, 'two.yaml'), 'name: two\nhosts: { target: { sshd: {} } }\ndataset: { files: 2, size: 4KiB }\ntransfer: { tool: rsync, to: target, concurrency: 2 }\nrepeat: 1\n');
    const r = await execa(bin, ['run', 'two.yaml', '--out', 'out', '--json'], { cwd: app, reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    const summary = JSON.parse(r.stdout) as { overall: { ok: number; lost: number } };
    assert.deepEqual([summary.overall.ok, summary.overall.lost], [2, 0]);
  });

  it('its API, its vitest matchers and the launcher script load from the installed package', async () => {
    const script = `
      const api = await import('xferbench');
      const { fileURLToPath } = await import('node:url');
      const { existsSync } = await import('node:fs');
      const launcher = await api.Launcher.start();
      const r = await launcher.run({ file: 'true', args: [] });
      await launcher.stop();
      console.log(typeof api.runScenario, r.exitCode, existsSync(fileURLToPath(import.meta.resolve('xferbench/vitest'))));
    `;
    const r = await execa(process.execPath, ['--input-type=module', '-e', script], { cwd: app, reject: false });
    assert.equal(r.exitCode, 0, r.stderr);
    assert.equal(r.stdout.trim(), 'function 0 true');
  });
});
