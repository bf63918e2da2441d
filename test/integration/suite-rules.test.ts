import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { REPO } from '../helpers/harness.js';

/** Rules of the suite itself and of the CI recipe the README offers. */
describe('suite and CI rules', () => {
  it('under CI as root, a missing container engine fails the container suite instead of skipping it', async () => {
    const env = { ...process.env, DOCKER_HOST: 'unix:///nonexistent.sock', NO_COLOR: '1' };
    const vitest = join(REPO, 'node_modules', 'vitest', 'vitest.mjs');
    const file = 'test/integration/containers.test.ts';
    const ci = await execa(process.execPath, [vitest, 'run', file], { cwd: REPO, reject: false, env: { ...env, CI: 'true' } });
    if (process.getuid?.() === 0) {
      assert.notEqual(ci.exitCode, 0, 'a skip under CI as root is a failure');
      assert.match(ci.stdout, /the container suite cannot run: no container engine: DOCKER_HOST=unix:\/\/\/nonexistent\.sock does not answer/);
    }
    const local = await execa(process.execPath, [vitest, 'run', file, '--reporter=verbose'], { cwd: REPO, reject: false, env: { ...env, CI: '' } });
    assert.equal(local.exitCode, 0, local.stdout);
    assert.match(local.stdout, /container backend \(skipped: no container engine: DOCKER_HOST=/, 'a skip says why');
  });

  it('the CI recipe installs what the harness needs and runs a suite with JUnit', async () => {
    const workflow = parse(await readFile(join(REPO, 'examples', 'ci', 'xferbench.yml'), 'utf8')) as { jobs: Record<string, { steps: { run?: string }[] }> };
    const runs = Object.values(workflow.jobs).flatMap((j) => j.steps.map((s) => s.run ?? '')).join('\n');
    for (const pkg of ['openssh-server', 'rsync', 'perl']) assert.match(runs, new RegExp(`apt-get install[^\\n]*\\b${pkg}\\b`), pkg);
    assert.match(runs, /npx xferbench suite \S+ .*--junit \S+/);
  });
});
