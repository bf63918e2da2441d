import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { parseScenario } from '../../src/plan/load-plan.js';
import { ScenarioError } from '../../src/util/errors.js';
import { parseSize } from '../../src/spec/size.js';
import { parseMaxStartups, REFUSED_SSHD, SETTABLE_SSHD } from '../../src/spec/sshd-options.js';
import { REFUSED_SSH, SETTABLE_SSH } from '../../src/spec/ssh-options.js';
import { REFUSED_RSYNC, SETTABLE_RSYNC } from '../../src/spec/rsync-args.js';
import { DEFAULT_LIMITS, sizeIssues } from '../../src/spec/limits.js';
import { readdir, readFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SCHEMA_FILE, scenarioJsonSchema, scenarioJsonSchemaText } from '../../src/scenario/json-schema.js';
import { REPO } from '../helpers/harness.js';

const BASE = `name: t
hosts:
  target: { sshd: { MaxStartups: "10:30:100" } }
  head: {}
dataset: { files: 10, size: 1MiB }
transfer: { tool: rsync, to: target }
`;

function problems(text: string, sets: string[] = []): ScenarioError['issues'] {
  try {
    parseScenario(text, 'x.yaml', sets);
  } catch (e) {
    assert.ok(e instanceof ScenarioError, `expected ScenarioError, got ${String(e)}`);
    return e.issues;
  }
  assert.fail('expected the scenario to be rejected');
}

describe('scenario loading', () => {
  it('fills defaults for a minimal scenario', () => {
    const { scenario, axes } = parseScenario(BASE, 'x.yaml');
    assert.equal(scenario.backend, 'local');
    assert.equal(scenario.transfer!.direction, 'push');
    assert.equal(scenario.transfer!.mux, 'off');
    assert.deepEqual(scenario.transfer!.via, []);
    assert.equal(scenario.repeat, 1);
    assert.deepEqual(scenario.dataset.size, { kind: 'fixed', bytes: 1024 * 1024 });
    assert.deepEqual(axes, []);
  });

  it('names the YAML path and line of an unknown key', () => {
    const issues = problems(BASE.replace('transfer: { tool: rsync, to: target }', 'transfer: { tool: rsync, to: target, muxx: warm }'));
    assert.deepEqual(issues.map((i) => [i.path, i.line]), [['transfer.muxx', 6]]);
    assert.match(issues[0]!.message, /unknown key "muxx"/);
  });

  it('reports every problem at once', () => {
    const text = `name: t
hosts:
  target: { sshd: { MaxStartups: "30:10:5" } }
dataset: { files: 0, size: 1XB }
transfer: { tool: rsync, to: target, via: [head] }
matrix:
  concurrency: [10, 0]
`;
    const issues = problems(text);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    assert.match(byPath['hosts.target.sshd.MaxStartups']!.message, /start \(30\) must not exceed full \(5\)/);
    assert.equal(byPath['hosts.target.sshd.MaxStartups']!.line, 3);
    assert.match(byPath['dataset.files']!.message, /at least 1/);
    assert.match(byPath['dataset.size']!.message, /not a size/);
    assert.match(byPath['transfer.via[0]']!.message, /jump host "head" is not defined/);
    assert.equal(byPath['transfer.via[0]']!.line, 5);
  });

  it('validates each matrix value and points at it', () => {
    const issues = problems(`${BASE}matrix:\n  concurrency: [10, 0]\n  mux: [off, hot]\n`);
    const byPath = Object.fromEntries(issues.map((i) => [i.path, i]));
    assert.match(byPath['matrix.concurrency[1]']!.message, /at least 1/);
    assert.equal(byPath['matrix.concurrency[1]']!.line, 8);
    assert.ok(byPath['matrix.mux[1]'], JSON.stringify(issues));
  });

  it('rejects a matrix key that names nothing', () => {
    const issues = problems(`${BASE}matrix:\n  concurency: [1]\n`);
    assert.equal(issues[0]!.path, 'matrix.concurency');
    assert.match(issues[0]!.message, /unknown matrix key/);
  });

  it('accepts dotted matrix paths into host limits', () => {
    const { axes } = parseScenario(`${BASE}matrix:\n  hosts.target.sshd.MaxStartups: ["10:30:100", "1000"]\n`, 'x.yaml');
    assert.deepEqual(axes[0]!.path, ['hosts', 'target', 'sshd', 'MaxStartups']);
  });

  it('refuses a via host that is the destination, and undefined destinations', () => {
    const issues = problems(BASE.replace('to: target }', 'to: nowhere, via: [target] }'));
    assert.ok(issues.some((i) => i.path === 'transfer.to' && /"nowhere" is not defined/.test(i.message)));
  });

  it('checks client: container, transfer.from and count together', () => {
    const paths = (text: string) => problems(text).map((i) => `${i.path}: ${i.message}`);
    assert.deepEqual(paths(`${BASE}client: container\n`), [
      'client: client: container needs backend: container',
      'transfer.from: client: container needs transfer.from: the host (worker container) transfers are launched in',
    ]);
    const containers = BASE.replace('head: {}', 'head: {}\n  worker: { count: 3 }\n  worker-2: {}') + 'backend: container\nclient: container\n';
    const found = paths(containers.replace('to: target }', 'to: target, from: head, via: [worker] }'));
    assert.ok(found.some((p) => p.startsWith('hosts.worker-2: "worker-2" is also the name of a replica')), found.join('\n'));
    assert.ok(found.some((p) => p.startsWith('transfer.via[0]: jump host "worker" has count 3')), found.join('\n'));
    const pull = paths(containers.replace('  worker-2: {}\n', '').replace('to: target }', 'to: worker, from: head, direction: pull }'));
    assert.deepEqual(pull, ['transfer.to: pulling spreads nothing: "worker" has count 3; pull from a single host or push']);
    assert.equal(parseScenario(containers.replace('  worker-2: {}\n', '').replace('to: target }', 'to: target, from: worker }'), 'x.yaml').scenario.transfer!.from, 'worker');
  });

  it('refuses sshd and ssh options the harness manages', () => {
    const issues = problems(
      BASE.replace('MaxStartups: "10:30:100"', 'MaxStartups: "10:30:100", ListenAddress: 0.0.0.0').replace(
        'to: target }',
        'to: target, ssh_options: { StrictHostKeyChecking: "no", ConnectTimeout: 5 } }',
      ),
    );
    assert.ok(issues.some((i) => i.path === 'hosts.target.sshd.ListenAddress' && /cannot be set by a scenario: xferbench sets it/.test(i.message)));
    assert.ok(issues.some((i) => i.path === 'transfer.ssh_options.StrictHostKeyChecking' && /cannot be set by a scenario: xferbench sets it/.test(i.message)));
    assert.equal(issues.length, 2);
  });

  it('applies --set overrides, parsing values as YAML', () => {
    const { scenario, axes } = parseScenario(BASE, 'x.yaml', ['transfer.mux=warm', 'matrix.concurrency=[5,10]', 'dataset.size=64KiB']);
    assert.equal(scenario.transfer!.mux, 'warm');
    assert.deepEqual(axes[0]!.values, [5, 10]);
    assert.deepEqual(scenario.dataset.size, { kind: 'fixed', bytes: 65536 });
  });

  it('says when a bad value came from --set', () => {
    const issues = problems(BASE, ['transfer.concurrency=0']);
    assert.equal(issues[0]!.path, 'transfer.concurrency');
    assert.equal(issues[0]!.line, undefined);
    assert.match(issues[0]!.message, /from --set/);
    assert.match(problems(BASE, ['nonsense'])[0]!.message, /key=value/);
  });

  it('reports YAML syntax errors and duplicate keys with their line', () => {
    assert.equal(problems('name: t\nhosts: [\n')[0]!.line !== undefined, true);
    const dup = problems(`${BASE}name: again\n`);
    assert.match(dup[0]!.message, /the key "name" appears twice/);
    assert.equal(dup[0]!.path, 'name');
    assert.equal(dup[0]!.line, 7);
  });

  it('normalises thresholds from the map and the list form', () => {
    const map = parseScenario(`${BASE}thresholds: { failure_rate: "<= 0.05" }\n`, 'x.yaml').scenario.thresholds;
    assert.deepEqual(map, [{ metric: 'failure_rate', condition: { op: '<=', value: 0.05, text: '<= 0.05' }, scope: 'cell' }]);
    const list = parseScenario(`${BASE}thresholds:\n  - { metric: p95_ms, condition: "< 800", scope: overall }\n`, 'x.yaml').scenario.thresholds;
    assert.equal(list[0]!.scope, 'overall');
    const bad = problems(`${BASE}thresholds: { failure_rate: "about 3" }\n`);
    assert.equal(bad[0]!.path, 'thresholds.failure_rate');
  });
});

describe('sizes', () => {
  it('parses decimal and binary units and ranges', () => {
    assert.deepEqual(parseSize('100KB'), { kind: 'fixed', bytes: 100_000 });
    assert.deepEqual(parseSize('1MiB'), { kind: 'fixed', bytes: 1_048_576 });
    assert.deepEqual(parseSize(512), { kind: 'fixed', bytes: 512 });
    assert.deepEqual(parseSize('1KiB..10MiB'), { kind: 'range', min: 1024, max: 10 * 1_048_576 });
    assert.equal(typeof parseSize('10MiB..1KiB'), 'string');
    assert.equal(typeof parseSize('lots'), 'string');
  });
});

describe('MaxStartups', () => {
  it('parses start:rate:full and the single-number form', () => {
    assert.deepEqual(parseMaxStartups('10:30:100'), { start: 10, rate: 30, full: 100 });
    assert.deepEqual(parseMaxStartups(1000), { start: 1000, rate: 100, full: 1000 });
    assert.match(String(parseMaxStartups('10:0:100')), /rate/);
    assert.match(String(parseMaxStartups('10:30')), /start:rate:full/);
  });
});

describe('JSON Schema for editors', () => {
  it('the shipped schema file is what the zod schema generates (npm run schema rewrites it)', async () => {
    assert.equal(await readFile(join(REPO, SCHEMA_FILE), 'utf8'), scenarioJsonSchemaText());
  });

  it('describes the input: unknown keys refused, defaults and enums kept', () => {
    const schema = scenarioJsonSchema() as { additionalProperties: boolean; required: string[]; properties: Record<string, { enum?: string[]; default?: unknown }> };
    assert.equal(schema.additionalProperties, false);
    assert.deepEqual(schema.properties.backend!.enum, ['local', 'container', 'external']);
    assert.equal(schema.properties.backend!.default, 'local');
    assert.ok(schema.required.includes('name'));
  });

  it('every shipped scenario names it on its first line, by a path that exists', async () => {
    for (const f of await readdir(join(REPO, 'scenarios'))) {
      const first = (await readFile(join(REPO, 'scenarios', f), 'utf8')).split('\n')[0]!;
      const m = /^# yaml-language-server: \$schema=(.+)$/.exec(first);
      assert.ok(m, `${f}: ${first}`);
      assert.equal(resolve(REPO, 'scenarios', m[1]!), join(REPO, SCHEMA_FILE), f);
    }
  });
});

describe('the policy for scenario-set options (docs/security.md)', () => {
  it('lists every settable keyword and option in the doc, and none is both settable and refused', async () => {
    const doc = await readFile(join(REPO, 'docs', 'security.md'), 'utf8');
    for (const k of [...Object.keys(SETTABLE_SSHD), ...Object.keys(SETTABLE_SSH)]) assert.ok(doc.includes(k), `${k} is in docs/security.md`);
    for (const [settable, refused] of [[SETTABLE_SSHD, REFUSED_SSHD], [SETTABLE_SSH, REFUSED_SSH], [SETTABLE_RSYNC, REFUSED_RSYNC]] as const) {
      assert.deepEqual(Object.keys(settable).filter((k) => k in refused), []);
    }
  });

  it('writes rsync options back in one canonical form', () => {
    const { scenario } = parseScenario(BASE.replace('to: target }', 'to: target, rsync_args: [--bwlimit, 100, -z, "--timeout=30", --partial] }'), 'x.yaml');
    assert.deepEqual(scenario.transfer!.rsync_args, ['--bwlimit=100', '--compress', '--timeout=30', '--partial']);
  });

  it('renders typed values: yes/no from booleans, lists of algorithms joined', () => {
    const { scenario } = parseScenario(BASE.replace('MaxStartups: "10:30:100"', 'MaxStartups: "10:30:100", UseDNS: false, Ciphers: [aes128-ctr, aes256-ctr], MaxSessions: 10'), 'x.yaml');
    assert.deepEqual(scenario.hosts.target!.sshd, { MaxStartups: '10:30:100', UseDNS: 'no', Ciphers: 'aes128-ctr,aes256-ctr', MaxSessions: '10' });
  });
});

describe('size limits, before expansion', () => {
  const axisPath = (k: string) => (k === 'files' ? ['dataset', 'files'] : ['transfer', k]);
  it('counts cells, cell runs, transfers (summed over a files axis) and the largest dataset', () => {
    const raw = { repeat: 2, dataset: { files: 10, size: '1MiB' }, matrix: { concurrency: [1, 2, 3], files: [10, 20] } };
    assert.deepEqual(sizeIssues(raw, axisPath, DEFAULT_LIMITS), []);
    const tight = { ...DEFAULT_LIMITS, cells: 5, runs: 11, transfers: 179, bytes: 20 * 1024 ** 2 - 1 };
    assert.deepEqual(sizeIssues(raw, axisPath, tight).map((i) => i.path.join('.')), ['matrix', 'repeat', 'dataset.files', 'dataset.size']);
    // (10 + 20) files x 3 concurrency cells x 2 repeats = 180 transfers; largest dataset 20 x 1 MiB.
    assert.deepEqual(sizeIssues(raw, axisPath, { ...tight, transfers: 180, bytes: 20 * 1024 ** 2, cells: 6, runs: 12 }), []);
  });

  it('counts hosts with their replicas, and the most transfers at once over a concurrency axis', () => {
    const hostPath = (k: string) => (k.includes('.') ? k.split('.') : ['transfer', k]);
    const raw = { hosts: { a: { count: 3 }, b: {}, c: { count: 2 } }, dataset: { files: 1, size: 1 }, transfer: { concurrency: 5 }, matrix: { 'hosts.c.count': [1, 40], concurrency: [10, 900] } };
    assert.deepEqual(sizeIssues(raw, hostPath, DEFAULT_LIMITS), []);
    assert.deepEqual(sizeIssues(raw, hostPath, { ...DEFAULT_LIMITS, hosts: 43, concurrency: 899 }).map((i) => `${i.path.join('.')}: ${i.message}`), [
      'hosts: 44 sshd hosts (replicas included) in a cell; the limit is 43 (raise it with --limit hosts=N if you mean it)',
      'transfer.concurrency: 900 transfers at once, each a process tree on this machine; the limit is 899 (raise it with --limit concurrency=N if you mean it)',
    ]);
  });
});
