import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { chmod, cp, lstat, mkdir, readdir, readFile, rm, stat, symlink, truncate, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { isolatedStateBase, leftovers, removeAll, runCli, scenarioPath, tempDir } from '../helpers/harness.js';

/**
 * Report folders travel (CI artifacts, a colleague's run): each test doctors a copy of a real
 * pipeline report the way an attacker would, runs finalize, resume, report or compare on it, and
 * checks that a victim folder outside is untouched and the tool said why it refused.
 */
describe('a report folder from elsewhere never touches anything outside it', () => {
  let base: string;
  let dir: string;
  /** A finished checkpoint-finalize run: 16 ranks with temporaries waiting for finalize. */
  let pristine: string;
  let victim: string;
  let n = 0;
  const env = () => ({ XFERBENCH_STATE_DIR: base });

  beforeAll(async () => {
    base = await isolatedStateBase('untrusted');
    dir = await tempDir('untrusted');
    pristine = join(dir, 'pristine');
    const r = await runCli(['run', scenarioPath('checkpoint-finalize'), '--out', pristine, '-q'], env());
    assert.equal(r.exitCode, 0, String(r.stderr));
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base, dir);
  });

  /** A fresh victim: a root-only secret, a folder with hosts/ and workers/, as a report's would be. */
  async function freshVictim(): Promise<void> {
    victim = join(dir, `victim-${++n}`);
    await mkdir(join(victim, 'hosts', 'pfs'), { recursive: true });
    await mkdir(join(victim, 'workers'), { recursive: true });
    await mkdir(join(victim, 'state'), { recursive: true });
    await writeFile(join(victim, 'secret'), 'secret\n', { mode: 0o600 });
    await chmod(join(victim, 'secret'), 0o600);
    await writeFile(join(victim, 'hosts', 'pfs', 'keep'), 'keep\n');
  }
  /** Every file of the victim with its mode and content: equal before and after, or something touched it. */
  async function snapshot(): Promise<string[]> {
    const entries = await readdir(victim, { recursive: true, withFileTypes: true });
    return Promise.all(
      entries.map(async (e) => {
        const p = join(e.parentPath, e.name);
        const s = await lstat(p);
        return `${relative(victim, p)} ${(s.mode & 0o7777).toString(8)} ${s.uid} ${e.isFile() ? await readFile(p, 'utf8') : ''}`;
      }),
    ).then((l) => l.sort());
  }
  async function copy(): Promise<string> {
    const out = join(dir, `case-${++n}`);
    await cp(pristine, out, { recursive: true });
    await freshVictim();
    return out;
  }
  const stateOf = async (out: string, rank = 0) => JSON.parse(await readFile(join(out, 'staging', 'c0r1', 'state', `rank-${rank}.json`), 'utf8'));
  const saveState = (out: string, s: unknown, rank = 0) => writeFile(join(out, 'staging', 'c0r1', 'state', `rank-${rank}.json`), JSON.stringify(s));
  const fromRepeat = (out: string, p: string) => relative(join(out, 'staging', 'c0r1'), p);
  function refused(r: { exitCode?: number; stderr: unknown; stdout: unknown }, file: RegExp | string) {
    const text = `${String(r.stdout)}\n${String(r.stderr)}`;
    assert.equal(r.exitCode, 2, text);
    assert.match(text, typeof file === 'string' ? new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')) : file);
    assert.doesNotMatch(text, /^\s+at |internal error/m, 'no stack trace');
  }

  it('finalize: temp_roots naming a folder outside (absolute or climbing out) are refused for that rank; the other ranks are finalized', async () => {
    for (const root of ['ABS', 'REL']) {
      const out = await copy();
      const before = await snapshot();
      const s = await stateOf(out);
      s.temp_roots = [root === 'ABS' ? victim : fromRepeat(out, victim)];
      await saveState(out, s);
      const r = await runCli(['finalize', out, '--json'], env());
      refused(r, 'rank-0.json');
      assert.match(String(r.stdout), /leaves its cell repeat folder/);
      assert.deepEqual(await snapshot(), before, `${root}: the victim is untouched`);
      const done = JSON.parse(String(r.stdout)) as { ranks: { rank: number; finalized: number; refused?: boolean }[] };
      assert.equal(done.ranks.filter((x) => x.refused).length, 1);
      assert.ok(done.ranks.filter((x) => !x.refused).every((x) => x.finalized > 0), 'the other 15 ranks were finalized');
    }
  });

  it("finalize: a pending file's temporary outside, and a landed file whose temporary or final path leaves the folder, are refused; nothing is deleted, chmod'ed or moved", async () => {
    for (const doctor of [
      (s: Rec, out: string) => Object.assign(s.files[0]!, { status: 'pending', temp: fromRepeat(out, join(victim, 'secret')) }),
      (s: Rec, out: string) => Object.assign(s.files[0]!, { status: 'landed', mode: 0o666, size: 7, temp: fromRepeat(out, join(victim, 'secret')) }),
      (s: Rec, out: string) => Object.assign(s.files[0]!, { status: 'landed', final: fromRepeat(out, join(victim, 'moved')) }),
    ]) {
      const out = await copy();
      const before = await snapshot();
      const s = await stateOf(out);
      doctor(s, out);
      await saveState(out, s);
      refused(await runCli(['finalize', out], env()), 'rank-0.json');
      assert.deepEqual(await snapshot(), before);
    }
  });

  it("finalize: a link planted in the folder (a folder component, a temporary's name) is never followed", async () => {
    // hosts/ of the repeat replaced by a link to the victim: every path through it is refused.
    const out = await copy();
    const before = await snapshot();
    const hosts = join(out, 'staging', 'c0r1', 'hosts');
    await cp(hosts, join(victim, 'hosts'), { recursive: true });
    const copied = await snapshot();
    await rm(hosts, { recursive: true });
    await symlink(join(victim, 'hosts'), hosts);
    const r = await runCli(['finalize', out], env());
    refused(r, /is a symbolic link/);
    assert.deepEqual(await snapshot(), copied, 'nothing below the link was renamed, chmod\'ed or deleted');
    assert.notDeepEqual(copied, before);

    // A temporary that is itself a link to the secret: refused, its metadata not applied through it.
    const out2 = await copy();
    const before2 = await snapshot();
    const s = await stateOf(out2);
    const temp = join(out2, 'staging', 'c0r1', s.files[0].temp);
    await rm(temp);
    await symlink(join(victim, 'secret'), temp);
    Object.assign(s.files[0], { size: 7, mode: 0o666 });
    await saveState(out2, s);
    refused(await runCli(['finalize', out2], env()), /\.xb-partial\/timestep\.0\.root is a symbolic link/);
    assert.deepEqual(await snapshot(), before2);
  });

  it('finalize: a link planted at state/rank-0.json.tmp is replaced, not written through', async () => {
    const out = await copy();
    const before = await snapshot();
    await symlink(join(victim, 'secret'), join(out, 'staging', 'c0r1', 'state', 'rank-0.json.tmp'));
    const r = await runCli(['finalize', out], env());
    assert.equal(r.exitCode, 0, String(r.stderr) + String(r.stdout));
    assert.deepEqual(await snapshot(), before);
    assert.equal((await stateOf(out)).files[0].status, 'final');
  });

  it('report: report.html, summary.txt and summary.json planted as links are replaced, their targets untouched', async () => {
    const out = await copy();
    const before = await snapshot();
    for (const f of ['report.html', 'summary.txt', 'summary.json']) {
      await rm(join(out, f));
      await symlink(join(victim, 'secret'), join(out, f));
    }
    const r = await runCli(['report', out], env());
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.deepEqual(await snapshot(), before);
    for (const f of ['report.html', 'summary.txt', 'summary.json']) assert.ok((await lstat(join(out, f))).isFile(), `${f} is a file of the folder again`);
  });

  it('a truncated, wrongly shaped or oversized state file is refused naming the file; so is a malformed results.jsonl record', async () => {
    const out = await copy();
    const file = join(out, 'staging', 'c0r1', 'state', 'rank-0.json');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.slice(0, 100));
    refused(await runCli(['finalize', out], env()), `${file}: not JSON`);
    await writeFile(file, JSON.stringify({ ...JSON.parse(text), files: 'all' }));
    refused(await runCli(['finalize', out], env()), `${file}: files: `);
    // A 100 MB state file (sparse): refused by its size, never read.
    await writeFile(file, text);
    await truncate(file, 100 * 1024 ** 2);
    refused(await runCli(['finalize', out], env()), `${file} is 104857600 bytes; at most 67108864 are read`);

    // A cell record missing its fields, in the middle of results.jsonl.
    const out2 = await copy();
    const results = join(out2, 'results.jsonl');
    const lines = (await readFile(results, 'utf8')).split('\n');
    const at = lines.findIndex((l) => l.startsWith('{"type":"cell"'));
    lines[at] = '{"type":"cell","cell":"default"}';
    await writeFile(results, lines.join('\n'));
    refused(await runCli(['report', out2], env()), `${results} line ${at + 1}: `);
    refused(await runCli(['compare', out2, out2], env()), `${results} line ${at + 1}: `);
    // A results.jsonl over 1 GiB (sparse) is refused by its size.
    await truncate(results, 1024 ** 3 + 1);
    refused(await runCli(['report', out2], env()), `${results} is 1073741825 bytes`);
  });

  it("report: a cell name with terminal escapes in results.jsonl is shown escaped in the table, summary.txt and report.html", async () => {
    const out = await copy();
    const results = join(out, 'results.jsonl');
    const evil = 'default\u001b]0;pwned\u0007\u001b[2J\u009b31m';
    await writeFile(results, (await readFile(results, 'utf8')).replaceAll('"cell":"default"', `"cell":${JSON.stringify(evil)}`));
    const r = await runCli(['report', out], env());
    assert.equal(r.exitCode, 0, String(r.stderr));
    const raw = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;
    assert.match(String(r.stdout), /default\\u001b\]0;pwned\\u0007/);
    for (const text of [String(r.stdout), String(r.stderr), await readFile(join(out, 'summary.txt'), 'utf8'), await readFile(join(out, 'report.html'), 'utf8')]) assert.doesNotMatch(text, raw);
  });

  /** The copy as a run killed before its repeat ended leaves it: no cell record, no run_end. */
  async function unfinished(out: string): Promise<void> {
    const results = join(out, 'results.jsonl');
    const lines = (await readFile(results, 'utf8')).split('\n').filter((l) => l && !/^\{"type":"(cell|run_end|verification|invariants)"/.test(l));
    await writeFile(results, `${lines.join('\n')}\n`);
  }

  it('resume: a cell repeat folder that is a link is refused before anything is written or deleted through it', async () => {
    const out = await copy();
    await unfinished(out);
    const repeat = join(out, 'staging', 'c0r1');
    await cp(repeat, join(victim, 'c0r1'), { recursive: true });
    const before = await snapshot();
    await rm(repeat, { recursive: true });
    await symlink(join(victim, 'c0r1'), repeat);
    refused(await runCli(['resume', out], env()), /c0r1 is a symbolic link/);
    assert.deepEqual(await snapshot(), before, "the victim's hosts/ and workers/ are still there");
  });

  it('resume: a missing logs/ folder is made, not a crash', async () => {
    const out = await copy();
    await unfinished(out);
    await rm(join(out, 'logs'), { recursive: true });
    const r = await runCli(['resume', out, '-q'], env());
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.ok((await stat(join(out, 'logs'))).isDirectory());
    assert.ok((await readdir(join(out, 'logs'))).some((f) => f.endsWith('-resume1.log')));
  });

  it('a scenario.yaml planted as a link is not read through', async () => {
    const out = await copy();
    await unfinished(out);
    await rm(join(out, 'scenario.yaml'));
    await symlink(join(victim, 'secret'), join(out, 'scenario.yaml'));
    refused(await runCli(['resume', out], env()), 'scenario.yaml is a symbolic link');
    assert.equal(existsSync(join(victim, 'secret')), true);
  });
});

type Rec = { files: Record<string, unknown>[] };
