import { afterAll, beforeAll, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { REPO, isolatedStateBase, leftovers, readJsonl, removeAll, runCli, scenarioPath, tempDir, writeScenario } from '../helpers/harness.js';

const HOSTS = `hosts:
  target: { sshd: { MaxStartups: "1000", MaxSessions: 1000 } }
  head: { sshd: { MaxStartups: "1000" } }
`;

describe('xferbench CLI', () => {
  let base: string;
  let dir: string;
  let env: Record<string, string>;
  beforeAll(async () => {
    base = await isolatedStateBase('cli');
    dir = await tempDir('cli');
    env = { XFERBENCH_STATE_DIR: base };
  });
  afterAll(async () => {
    assert.deepEqual(await leftovers(base), []);
    await removeAll(base, dir);
  });

  describe('bad input: exit 2, one message per problem with path and line, nothing started or written', () => {
    const cases: [string, string, RegExp[]][] = [
      ['unknown-key', `name: x\n${HOSTS}dataset: { files: 1, size: 1KiB }\ntransfer: { to: target, colour: blue }\n`, [/transfer\.colour \(line 6\): unknown key "colour"/]],
      ['concurrency-zero', `name: x\n${HOSTS}dataset: { files: 1, size: 1KiB }\ntransfer: { to: target }\nmatrix: { concurrency: [5, 0] }\n`, [/matrix\.concurrency\[1\] \(line 7\): must be at least 1/]],
      ['maxstartups-order', `name: x\nhosts:\n  target: { sshd: { MaxStartups: "30:10:5" } }\ndataset: { files: 1, size: 1KiB }\ntransfer: { to: target }\n`, [/hosts\.target\.sshd\.MaxStartups \(line 3\): MaxStartups "30:10:5": start \(30\) must not exceed full \(5\)/]],
      ['via-undefined', `name: x\n${HOSTS}dataset: { files: 0, size: 1KiB }\ntransfer: { to: target, via: [login] }\n`, [/transfer\.via\[0\] \(line 6\): jump host "login" is not defined/, /dataset\.files \(line 5\)/]],
    ];
    for (const [name, text, patterns] of cases) {
      it(name, async () => {
        const file = await writeScenario(dir, name, text);
        const out = join(dir, `out-${name}`);
        const r = await runCli(['run', file, '--out', out], env);
        assert.equal(r.exitCode, 2, String(r.stderr));
        for (const p of patterns) assert.match(String(r.stderr), p);
        assert.equal(existsSync(out), false, 'no report folder for bad input');
      });
    }

    it('a keyword the installed sshd does not know names the version it needs', async () => {
      const file = await writeScenario(dir, 'penalties', `name: x\nhosts:\n  target: { sshd: { PerSourcePenalties: "no" } }\ndataset: { files: 1, size: 1KiB }\ntransfer: { to: target }\n`);
      const r = await runCli(['run', file, '--out', join(dir, 'out-penalties')], env);
      const version = /OpenSSH_(\d+)\.(\d+)/.exec(String((await import('execa')).execaSync('ssh', ['-V'], { reject: false }).stderr))!;
      if (Number(version[1]) * 100 + Number(version[2]) >= 908) {
        assert.notEqual(r.exitCode, 2, 'this sshd knows PerSourcePenalties');
      } else {
        assert.equal(r.exitCode, 2);
        assert.match(String(r.stderr), /hosts\.target\.sshd\.PerSourcePenalties \(line 3\): PerSourcePenalties needs OpenSSH 9\.8 or newer; this sshd is OpenSSH_/);
        assert.equal(existsSync(join(dir, 'out-penalties')), false);
      }
    });

    it('a missing file and a bad --set', async () => {
      const missing = await runCli(['run', join(dir, 'nope.yaml')], env);
      assert.equal(missing.exitCode, 2);
      assert.match(String(missing.stderr), /cannot read the scenario file: ENOENT/);
      const badSet = await runCli(['run', scenarioPath('maxstartups'), '--set', 'transfer.mux=sometimes', '--out', join(dir, 'x')], env);
      assert.equal(badSet.exitCode, 2);
      assert.match(String(badSet.stderr), /transfer\.mux: .*\(from --set\)/);
    });
  });

  it('validate prints the execution plan without starting anything', async () => {
    const r = await runCli(['validate', scenarioPath('mux')], env);
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.match(String(r.stdout), /mux: 4 cell\(s\) x 2 repeat\(s\) = 480 transfers, 1 topology start/);
    assert.match(String(r.stdout), /mux=warm,concurrency=30: 60 x rsync push to target, concurrency 30, mux warm/);
  });

  it('init writes a scenario that validates, pointing editors at the schema; it never overwrites', async () => {
    const file = join(dir, 'sub', 'start.yaml');
    await mkdir(join(dir, 'sub'));
    const first = await runCli(['init', file, '--template', 'mux'], env);
    assert.equal(first.exitCode, 0, String(first.stderr));
    const text = await readFile(file, 'utf8');
    const schemaPath = /^# yaml-language-server: \$schema=(.+)$/m.exec(text)![1]!;
    assert.equal(resolve(dir, 'sub', schemaPath), join(REPO, 'schema', 'scenario.schema.json'));
    assert.equal((await runCli(['validate', file], env)).exitCode, 0);
    const again = await runCli(['init', file], env);
    assert.equal(again.exitCode, 2);
    assert.match(String(again.stderr), /exists; xferbench init does not overwrite/);
    assert.equal(await readFile(file, 'utf8'), text, 'untouched');
    const schema = await runCli(['schema'], env);
    assert.deepEqual(JSON.parse(String(schema.stdout)), JSON.parse(await readFile(join(REPO, 'schema', 'scenario.schema.json'), 'utf8')));
  });

  it('every tool in both directions, through a jump host, with a timestep layout: all verified', async () => {
    const file = await writeScenario(dir, 'tools', `name: tools
${HOSTS}dataset: { files: 10, size: 1KiB..64KiB, layout: timestep, ranks: 4 }
transfer: { to: target, via: [head], concurrency: 5 }
matrix:
  tool: [rsync, scp, sftp, cp]
  direction: [push, pull]
thresholds: { failure_rate: "<= 0", silent_drops: "== 0" }
`);
    const out = join(dir, 'out-tools');
    const r = await runCli(['run', file, '--out', out, '--json'], env);
    assert.equal(r.exitCode, 0, `${r.stderr}\n${r.stdout}`);
    const summary = JSON.parse(String(r.stdout));
    assert.equal(summary.cells.length, 8);
    for (const c of summary.cells) {
      assert.equal(c.ok, 10, `${c.cell}: ${JSON.stringify(c.classes)}`);
      assert.equal(c.repeats[0].loss_rate, 0, c.cell);
    }
    const records = await readJsonl(join(out, 'results.jsonl'));
    const verifications = records.filter((x) => x.type === 'verification') as { counts: Record<string, number> }[];
    assert.equal(verifications.length, 8);
    for (const v of verifications) assert.deepEqual(v.counts, { ok: 10, missing: 0, corrupt: 0, extra: 0 });
    for (const f of ['summary.json', 'summary.txt', 'scenario.yaml', 'plan.json', 'report.html', 'logs/target.log', 'logs/head.log']) assert.ok(existsSync(join(out, f)), f);
    assert.equal(existsSync(join(out, 'charts')), false, 'PNG charts only with --png');
  });

  it('--png also writes the charts as PNG, and the table shows transfers in flight', async () => {
    const file = await writeScenario(dir, 'png', `name: png\n${HOSTS}dataset: { files: 4, size: 1KiB }\ntransfer: { to: target, concurrency: 4 }\n`);
    const out = join(dir, 'out-png');
    const r = await runCli(['run', file, '--out', out, '--png'], env);
    assert.equal(r.exitCode, 0, String(r.stderr));
    assert.match(String(r.stdout), /in flight[\s\S]*\b4\/4\b/);
    for (const png of ['failure-rate', 'throughput', 'failure-classes', 'latency', 'timeline']) assert.ok(existsSync(join(out, 'charts', `${png}.png`)), png);
  });

  it('a host that refuses every login ends the run with the login check\'s error, after the repeat that showed it', async () => {
    const file = await writeScenario(dir, 'denied', `name: denied\nhosts:\n  target: { sshd: { PubkeyAcceptedAlgorithms: ssh-rsa } }\ndataset: { files: 3, size: 1KiB }\ntransfer: { to: target, concurrency: 3 }\n`);
    const out = join(dir, 'out-denied');
    const r = await runCli(['run', file, '--out', out], env);
    assert.equal(r.exitCode, 2, String(r.stderr));
    assert.match(String(r.stderr), /login check target failed \(exit 255\): .*Permission denied/);
    const records = await readJsonl(join(out, 'results.jsonl'));
    assert.equal(records.filter((x) => x.type === 'transfer' && x.failure_class === 'auth').length, 3, 'the failed transfers stay recorded');
    assert.equal((records.at(-1) as { outcome?: string }).outcome, 'error');
  });

  it('a tool that exits 0 without delivering is caught as a silent drop and fails the threshold (exit 1)', async () => {
    // rsync --max-size skips larger files and still exits 0: the kind of silent loss users hunt.
    const file = await writeScenario(dir, 'silent', `name: silent
${HOSTS}dataset: { files: 20, size: 1KiB..16KiB, seed: 3 }
transfer: { to: target, concurrency: 10, rsync_args: [--max-size=4K] }
thresholds: { silent_drops: "== 0" }
`);
    const out = join(dir, 'out-silent');
    const r = await runCli(['run', file, '--out', out], env);
    assert.equal(r.exitCode, 1, String(r.stderr));
    assert.match(String(r.stdout), /FAIL {2}silent_drops == 0/);
    const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8'));
    assert.ok(summary.overall.silent_drops > 0);
    assert.equal(summary.overall.failed, 0, 'rsync reported success for every file');
    const v = (await readJsonl(join(out, 'results.jsonl'))).find((x) => x.type === 'verification') as { silent_drops: string[]; counts: { missing: number } };
    assert.equal(v.silent_drops.length, v.counts.missing);
  });

  it('retries with backoff recover dropped transfers and record the first failure', async () => {
    const out = join(dir, 'out-retry');
    const r = await runCli(
      ['run', scenarioPath('maxstartups'), '--out', out, '--quiet', '--json', '--set', 'dataset.files=60', '--set', 'dataset.size=8KiB', '--set', 'matrix.concurrency=[60]', '--set', 'repeat=1', '--set', 'transfer.retries=8', '--set', 'transfer.backoff_ms=200'],
      env,
    );
    assert.equal(r.exitCode, 0, String(r.stderr));
    const summary = JSON.parse(String(r.stdout));
    assert.ok(summary.overall.recovered_by_retry > 0, 'some transfers failed first and recovered');
    const recovered = (await readJsonl(join(out, 'results.jsonl'))).filter((x) => x.status === 'recovered') as { attempts: unknown[]; first_failure_class: string }[];
    assert.ok(recovered.every((t) => t.attempts.length > 1 && t.first_failure_class === 'maxstartups_drop'));
  });
});
