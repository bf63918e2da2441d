import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import { REPO, isolatedStateBase, leftovers, readJsonl, removeAll, runCli, tempDir, writeScenario } from '../helpers/harness.js';

const HOSTS = `hosts:\n  target: { sshd: { MaxStartups: "1000", MaxSessions: 1000 } }\n`;

/** README claims about the CLI that no other test holds it to, each through the CLI. */
describe('README claims', () => {
  let base: string;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    base = await isolatedStateBase('claims');
    dir = await tempDir('claims');
    env = { XFERBENCH_STATE_DIR: base };
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base, dir);
  });

  it('run --junit writes one test case per cell and threshold', async () => {
    const file = await writeScenario(dir, 'junit', `name: junit\n${HOSTS}dataset: { files: 2, size: 1KiB }\ntransfer: { to: target }\nmatrix: { concurrency: [1, 2] }\nthresholds: { failure_rate: "<= 0", silent_drops: "== 0" }\n`);
    const junit = join(dir, 'junit.xml');
    const r = await runCli(['run', file, '--out', join(dir, 'out-junit'), '--junit', junit, '-q'], env);
    assert.equal(r.exitCode, 0, String(r.stderr));
    const xml = new XMLParser({ ignoreAttributes: false }).parse(await readFile(junit, 'utf8'));
    const cases = [xml.testsuites.testsuite].flat().flatMap((s: { testcase: unknown }) => [s.testcase].flat());
    assert.equal(cases.length, 4, '2 cells x 2 thresholds');
  });

  it('--out must be new or empty; nothing is started or written otherwise', async () => {
    const out = join(dir, 'out-used');
    await mkdir(out);
    await writeFile(join(out, 'keep.txt'), 'mine');
    const file = await writeScenario(dir, 'used', `name: used\n${HOSTS}dataset: { files: 1, size: 1KiB }\ntransfer: { to: target }\n`);
    const r = await runCli(['run', file, '--out', out], env);
    assert.equal(r.exitCode, 2);
    assert.match(String(r.stderr), /out-used/);
    assert.deepEqual(await readdir(out), ['keep.txt']);
  });

  it('--keep-state keeps keys, configs and host data (key 0600); without it the state folder goes', async () => {
    const file = await writeScenario(dir, 'state', `name: state\n${HOSTS}dataset: { files: 1, size: 1KiB }\ntransfer: { to: target }\n`);
    const runsDir = async () => (await readdir(base)).filter((d) => d.startsWith('run-'));
    const before = await runsDir();
    assert.equal((await runCli(['run', file, '--out', join(dir, 'out-state1'), '-q'], env)).exitCode, 0);
    assert.deepEqual(await runsDir(), before, 'removed by default');
    assert.equal((await runCli(['run', file, '--out', join(dir, 'out-state2'), '-q', '--keep-state'], env)).exitCode, 0);
    const kept = (await runsDir()).filter((d) => !before.includes(d));
    assert.equal(kept.length, 1);
    const key = join(base, kept[0]!, 'client_ed25519');
    assert.equal((await stat(key)).mode & 0o777, 0o600);
    assert.ok(existsSync(join(base, kept[0]!, 'topology-0', 'hosts', 'target', 'sshd_config')));
    await removeAll(join(base, kept[0]!));
  });

  it('timeout_s kills a stalled transfer and classifies it as timeout', async () => {
    const file = await writeScenario(dir, 'slow', `name: slow\n${HOSTS}dataset: { files: 1, size: 2MiB }\ntransfer: { to: target, timeout_s: 2, rsync_args: [--bwlimit=50] }\n`);
    const out = join(dir, 'out-slow');
    const r = await runCli(['run', file, '--out', out, '-q'], env);
    assert.equal(r.exitCode, 0, String(r.stderr));
    const [t] = (await readJsonl(join(out, 'results.jsonl'))).filter((x) => x.type === 'transfer') as { status: string; failure_class: string; attempts: { timed_out: boolean; start_ms: number; end_ms: number }[] }[];
    assert.equal(t!.status, 'failed');
    assert.equal(t!.failure_class, 'timeout');
    assert.equal(t!.attempts[0]!.timed_out, true);
    const ms = t!.attempts[0]!.end_ms - t!.attempts[0]!.start_ms;
    assert.ok(ms >= 2000 && ms < 5000, `killed after ${ms} ms`);
  });

  it('a harness error (no container engine for backend: container) exits 2 and says what to do', async () => {
    const file = await writeScenario(dir, 'engine', `name: engine\nbackend: container\n${HOSTS}dataset: { files: 1, size: 1KiB }\ntransfer: { to: target }\n`);
    const r = await runCli(['run', file, '--out', join(dir, 'out-engine')], { ...env, DOCKER_HOST: 'unix:///nonexistent.sock' });
    assert.equal(r.exitCode, 2);
    assert.match(String(r.stderr), /DOCKER_HOST=unix:\/\/\/nonexistent\.sock does not answer/);
    assert.doesNotMatch(String(r.stderr), /internal error|\n\s+at /);
  });

  it('suite exits 2 when one scenario cannot run, and still runs and indexes the others', async () => {
    const folder = join(dir, 'suite');
    await mkdir(folder);
    await writeScenario(folder, 'good', `name: good\n${HOSTS}dataset: { files: 1, size: 1KiB }\ntransfer: { to: target }\n`);
    await writeScenario(folder, 'bad', `name: bad\n${HOSTS}dataset: { files: 1, size: 1KiB }\ntransfer: { to: target, colour: blue }\n`);
    const out = join(dir, 'out-suite');
    const r = await runCli(['suite', folder, '--out', out, '-q'], env);
    assert.equal(r.exitCode, 2, String(r.stdout));
    assert.match(String(r.stdout), /ERROR\s+bad/);
    assert.match(String(r.stdout), /PASS\s+good/);
    assert.ok(existsSync(join(out, 'index.html')));

    // Every scenario refused before its folder exists (one aimed at a site's server without
    // --external): the index still says so, and nothing is aimed anywhere.
    const refused = join(dir, 'suite-refused');
    await mkdir(refused);
    await writeScenario(refused, 'site', 'name: site\nhosts:\n  target: { external: { address: dtn.example.org, user: a, identity: /nonexistent/k, known_hosts: /nonexistent/kh, dir: x } }\ndataset: { files: 1, size: 1KiB }\ntransfer: { to: target }\n');
    const out2 = join(dir, 'out-suite-refused');
    const r2 = await runCli(['suite', refused, '--out', out2, '-q'], env);
    assert.equal(r2.exitCode, 2, String(r2.stderr));
    assert.match(String(r2.stdout), /ERROR\s+site/);
    assert.doesNotMatch(String(r2.stderr), /internal error/);
    assert.match(await readFile(join(out2, 'index.html'), 'utf8'), /run it with --external/);
  });

  it('a push to a count: K host on the local backend deals files over the replicas, each verified', async () => {
    const file = await writeScenario(dir, 'count', `name: count\nhosts:\n  target: { count: 2, sshd: { MaxStartups: "1000" } }\ndataset: { files: 6, size: 1KiB }\ntransfer: { to: target, concurrency: 6 }\n`);
    const out = join(dir, 'out-count');
    const r = await runCli(['run', file, '--out', out, '--json'], env);
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.equal(JSON.parse(String(r.stdout)).overall.ok, 6);
    const [v] = (await readJsonl(join(out, 'results.jsonl'))).filter((x) => x.type === 'verification') as { counts: Record<string, number> }[];
    assert.deepEqual(v!.counts, { ok: 6, missing: 0, corrupt: 0, extra: 0 });
    const cell = (await readJsonl(join(out, 'results.jsonl'))).find((x) => x.type === 'cell') as { sshd: Record<string, { accepted_logins: number }> };
    assert.deepEqual(Object.keys(cell.sshd).sort(), ['target-1', 'target-2']);
    for (const h of ['target-1', 'target-2']) assert.equal(cell.sshd[h]!.accepted_logins, 3, `${h} served half`);
  });

  it('compare: --json, and the tolerances decide what counts as a regression', async () => {
    const runs = join(REPO, 'test', 'fixtures', 'runs');
    const strict = await runCli(['compare', join(runs, 'base'), join(runs, 'regressed'), '--json'], env);
    assert.equal(strict.exitCode, 1);
    const rows = JSON.parse(String(strict.stdout)) as { cell: string; verdict: string }[];
    assert.equal(rows.find((x) => x.cell === 'concurrency=40')!.verdict, 'regression');
    const lenient = await runCli(['compare', join(runs, 'base'), join(runs, 'regressed'), '--failure-tolerance', '1', '--tolerance', '10'], env);
    assert.equal(lenient.exitCode, 0, String(lenient.stdout));
  });
});
