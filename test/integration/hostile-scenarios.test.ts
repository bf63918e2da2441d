import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isolatedStateBase, leftovers, removeAll, REPO, runCli, tempDir } from '../helpers/harness.js';

/**
 * The corpus of malformed and hostile scenarios (test/fixtures/hostile): each file names in its
 * header the YAML path its problem must be reported at and, for a payload that would run a
 * command, the marker file that command would create.
 */
const CORPUS = join(REPO, 'test', 'fixtures', 'hostile');
/** Where the payloads' `touch` commands point (named in the fixtures). */
const MARKERS = '/tmp/xferbench-hostile';

interface Case {
  file: string;
  expect: string;
  marker?: string;
}

async function corpus(): Promise<Case[]> {
  const files = (await readdir(CORPUS)).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(
    files.map(async (f) => {
      const text = await readFile(join(CORPUS, f), 'utf8');
      const expect = /^# expect: (.+)$/m.exec(text)?.[1];
      assert.ok(expect, `${f} names the path its problem is reported at`);
      const marker = /^# marker: (.+)$/m.exec(text)?.[1];
      return { file: f, expect, ...(marker ? { marker } : {}) };
    }),
  );
}

const cases = await corpus();

describe('hostile and malformed scenarios', () => {
  let base: string;
  let dir: string;
  beforeAll(async () => {
    base = await isolatedStateBase('hostile');
    dir = await tempDir('hostile');
    await rm(MARKERS, { recursive: true, force: true });
    await mkdir(MARKERS, { recursive: true });
  });
  afterAll(async () => {
    assert.deepEqual(await readdir(MARKERS), [], 'no payload ran');
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base, dir, MARKERS);
  });

  it('the corpus holds at least 60 files, a third of them with a payload', () => {
    assert.ok(cases.length >= 60, `${cases.length} files`);
    assert.ok(cases.filter((c) => c.marker).length >= 15, 'payloads');
  });

  function assertRefused(c: Case, r: { exitCode?: number; stderr: unknown; stdout: unknown }) {
    const err = String(r.stderr);
    assert.equal(r.exitCode, 2, `${c.file}: ${err}`);
    const path = c.expect.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    // Nesting too deep to print is reported at its first 32 levels.
    assert.match(err, new RegExp(`^  - ${path}(\\[\\d+\\])*( \\(line \\d+\\))?: `, 'm'), c.file);
    assert.doesNotMatch(err, /^\s+at |internal error/m, `${c.file}: no stack trace`);
    if (c.marker) assert.equal(existsSync(c.marker), false, `${c.file}: the payload did not run`);
  }

  describe.concurrent('each file: exit 2, its YAML path, no trace; run writes nothing and starts nothing', () => {
    for (const c of cases) {
      it(c.file, async () => {
        const state = join(base, c.file);
        const out = join(dir, c.file);
        assertRefused(c, await runCli(['validate', join(CORPUS, c.file)], { XFERBENCH_STATE_DIR: state }));
        assertRefused(c, await runCli(['run', join(CORPUS, c.file), '--out', out], { XFERBENCH_STATE_DIR: state }));
        // A started sshd needs a run's state folder, so none existing means none started.
        assert.equal(existsSync(state), false, `${c.file}: no state folder`);
        assert.equal(existsSync(out), false, `${c.file}: no report folder`);
      });
    }
  });

  it('terminal escape sequences in keys reach no terminal: every message shows them escaped', async () => {
    const file = join(dir, 'escapes.yaml');
    // A title change and a screen clear in a key, a colour in a matrix key, a C1 CSI in a value.
    await writeFile(file, `name: x\nhosts:\n  target: {}\ndataset: { files: 1, size: 1 }\ntransfer: { to: target }\n"\u001b]0;pwned\u0007\u001b[2J": 1\nmatrix:\n  "a\u001b[31m.b": [1]\ndescription: "\u009b2J all thresholds passed"\n`);
    const r = await runCli(['validate', file], {});
    assertRefused({ file: 'escapes.yaml', expect: '\\u001b]0;pwned\\u0007\\u001b[2J' }, r);
    assert.doesNotMatch(`${String(r.stdout)}${String(r.stderr)}`, /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/, 'no raw control character reaches the terminal');
    assert.match(String(r.stderr), /description \(line \d+\): holds the control character U\+009B/);
  });

  it('probe --rate outside 0.1..10000 a second is refused before anything connects (a tiny rate would have meant no limit)', async () => {
    for (const rate of ['0.0000001', '0', '1e9', 'fast']) {
      const r = await runCli(['probe', '127.0.0.1', '-i', '/nonexistent', '--known-hosts', '/nonexistent', '--rate', rate], {});
      assert.equal(r.exitCode, 2, `${rate}: ${String(r.stderr)}`);
      assert.match(String(r.stderr), /--rate must be a number of connections per second from 0\.1 to 10000/, rate);
    }
  });

  it('a file over 1 MiB is refused without being read whole', async () => {
    const file = join(dir, 'huge.yaml');
    await writeFile(file, `name: x\ndescription: "${'a'.repeat(2 * 1024 * 1024)}"\n`);
    assertRefused({ file: 'huge.yaml', expect: '(root)' }, await runCli(['validate', file], {}));
  });

  it('--set values follow the same rules as the file, reported with the file\'s own problems', async () => {
    const marker = join(MARKERS, 'set-rsync');
    const r = await runCli(
      ['run', join(REPO, 'scenarios', 'maxstartups.yaml'), '--out', join(dir, 'out-set'), '--set', `transfer.rsync_args=["--rsync-path=touch ${marker}"]`, '--set', 'hosts.target.sshd.Ciphers=aes128-ctr\nForceCommand x', '--set', 'transfer.concurrency=0'],
      { XFERBENCH_STATE_DIR: join(base, 'set') },
    );
    const err = String(r.stderr);
    assert.equal(r.exitCode, 2, err);
    for (const path of ['transfer.rsync_args[0]', 'hosts.target.sshd.Ciphers', 'transfer.concurrency']) assert.match(err, new RegExp(`  - ${path.replace(/[.[\]]/g, '\\$&')}: .*\\(from --set\\)`), path);
    assert.equal(existsSync(marker), false);
    assert.equal(existsSync(join(dir, 'out-set')), false);
  });

  it('--limit raises a size limit explicitly', async () => {
    const file = join(CORPUS, 'limit-runs.yaml');
    assertRefused({ file: 'limit-runs.yaml', expect: 'repeat' }, await runCli(['validate', file], {}));
    const raised = await runCli(['validate', file, '--limit', 'runs=20000'], {});
    assert.equal(raised.exitCode, 0, String(raised.stderr));
    assert.match(String(raised.stdout), /200 cell\(s\) x 100 repeat\(s\)/);
  });
});
