import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { parseScenario } from '../../src/plan/load-plan.js';
import { ScenarioError } from '../../src/util/errors.js';
import { FAULT_REGISTRY, FAULT_KINDS } from '../../src/faults/registry.js';
import { externalLoad, renderExternalLoad } from '../../src/plan/external-load.js';
import { EXTERNAL_CAPS } from '../../src/spec/external-host.js';
import { StartPacer } from '../../src/transfers/start-pacer.js';

/** A site's server as a scenario names it (nothing here is ever connected to). */
const site = (dir = true) => `{ address: login.example.org, port: 2222, user: alice, identity: ~/.ssh/id_ed25519, known_hosts: ~/.ssh/known_hosts${dir ? ', dir: xferbench' : ''} }`;

const SCENARIO = `name: t
hosts:
  head: { external: ${site(false)} }
  target: { sshd: { MaxStartups: "10:30:100" }, external: ${site()} }
  local: {}
dataset: { files: 40, size: 1KiB }
transfer: { to: target, via: [head], concurrency: 20 }
`;

function problems(text: string, options: { sets?: string[]; administer?: boolean } = {}): readonly { path: string; message: string; line?: number }[] {
  try {
    parseScenario(text, 'x.yaml', { sets: options.sets ?? [], administer: options.administer === true });
  } catch (e) {
    assert.ok(e instanceof ScenarioError, `expected ScenarioError, got ${String(e)}`);
    return e.issues;
  }
  assert.fail('expected the scenario to be refused');
}

const at = (issues: ReturnType<typeof problems>, path: string, pattern: RegExp) =>
  assert.ok(issues.some((i) => i.path === path && pattern.test(i.message)), `no issue at ${path} matching ${pattern}: ${JSON.stringify(issues)}`);

describe('backend: external — what a scenario may ask of a site\'s servers', () => {
  it('plans external hosts among local ones and says the load each gets, under the caps', () => {
    const { plan } = parseScenario(SCENARIO, 'x.yaml', { sets: ['matrix.concurrency=[5,30]', 'repeat=2'] });
    const load = externalLoad(plan);
    assert.deepEqual(load.map((l) => [l.host, l.server, l.roles, l.concurrency, l.starts]), [
      ['target', 'alice@login.example.org:2222', ['destination'], 30, 160],
      ['head', 'alice@login.example.org:2222', ['jump'], 30, 160],
    ]);
    assert.equal(load[0]!.bytes, 160 * 1024);
    assert.deepEqual(plan.groups[0]!.reach, { target: ['head'] });
    const text = renderExternalLoad(load, false);
    assert.match(text, /a run needs --external/);
    assert.match(text, new RegExp(`at most ${EXTERNAL_CAPS.concurrency} at once; new transfers paced to ${EXTERNAL_CAPS.startsPerSecond}/s`));
  });

  it('refuses more than the cap at once, at the matrix value that asks it, unless the user administers the host', () => {
    const issues = problems(SCENARIO, { sets: ['matrix.concurrency=[5,31,60]'] });
    assert.equal(issues.length, 2, JSON.stringify(issues));
    at(issues, 'matrix.concurrency[1]', /31 at once through external host "target", "head" is above 30.*--i-administer-this-host/);
    // 60 asked, but 40 files are all a cell can have in flight: the refusal names what would run.
    at(issues, 'matrix.concurrency[2]', /40 at once/);
    assert.doesNotThrow(() => parseScenario(SCENARIO, 'x.yaml', { sets: ['matrix.concurrency=[5,31,60]'], administer: true }));
    // A pipeline's stage counts one invocation per rank unless it sets fewer.
    const pipeline = `name: p
hosts:
  head: { external: ${site(false)} }
  data: { external: ${site()} }
  archive: {}
dataset: { files: 40, size: 1KiB }
pipeline: { ranks: 32, stage_in: { from: data, via: [head] }, stage_out: { to: archive } }
`;
    at(problems(pipeline), 'pipeline.stage_in', /32 at once through external host "data", "head"/);
    assert.doesNotThrow(() => parseScenario(pipeline, 'p.yaml', { sets: ['pipeline.stage_in.concurrency=16'] }));
  });

  it('refuses an executor that cannot keep the pace, unless the user administers the host', () => {
    const slurm = `${SCENARIO}executor: slurm\n`;
    at(problems(slurm), 'executor', /executor: slurm cannot keep the pace of new transfers to external hosts \(10\/s\).*--i-administer-this-host/);
    assert.doesNotThrow(() => parseScenario(slurm, 'x.yaml', { administer: true }));
  });

  it('refuses every fault that needs the server on an external host, and keeps client-side ones', () => {
    const hostKinds = FAULT_KINDS.filter((k) => FAULT_REGISTRY[k].acts === 'host');
    assert.ok(hostKinds.length >= 6, hostKinds.join(','));
    for (const kind of hostKinds) {
      const issues = problems(`${SCENARIO}faults: [{ kind: ${kind}, host: target }]\n`, { administer: true });
      at(issues, 'faults[0].host', new RegExp(`${kind} needs the server of host "target": xferbench did not start this sshd`));
    }
    // Acting on this machine's ssh masters is the client's side: allowed.
    assert.doesNotThrow(() => parseScenario(`${SCENARIO}faults: [{ kind: kill_master, host: target }]\n`, 'x.yaml', { sets: ['transfer.mux=warm'] }));
  });

  it('refuses where an external host cannot stand, each at its place', () => {
    at(problems(SCENARIO.replace('backend', ''), { sets: ['backend=external'] }), 'hosts.local.external', /backend: external: name this host's server/);
    at(problems(SCENARIO, { sets: ['backend=container'] }), 'backend', /external hosts mix with backend: local hosts only/);
    at(problems(SCENARIO, { sets: ['hosts.target.count=2'] }), 'hosts.target.count', /one server: count does not apply/);
    at(problems(SCENARIO, { sets: ['transfer.to=head', 'transfer.via=[]'] }), 'transfer.to', /host "head" has no external.dir: .*only a jump host/);
    at(problems(SCENARIO, { sets: ['transfer.to=local'] }), 'transfer.via[0]', /"head" is an external host: it cannot reach "local", which runs on this machine's loopback/);
    at(problems(SCENARIO, { sets: ['transfer.via=[local]'] }), 'transfer.via[0]', /"local" runs on this machine: an external host is reached directly or through external jump hosts only/);
    at(problems(SCENARIO, { sets: ['transfer.tool=forward', 'transfer.direction=pull', 'transfer.via=[]'] }), 'backend', /tool: forward serves the files from this process/);
    const pipeline = `name: p
hosts:
  data: { external: ${site()} }
  archive: {}
dataset: { files: 8, size: 1KiB }
pipeline: { ranks: 4, stage_in: { from: data }, stage_out: { to: archive } }
`;
    assert.doesNotThrow(() => parseScenario(pipeline, 'p.yaml'));
    at(problems(pipeline, { sets: ['pipeline.stage_out.to=data'] }), 'pipeline.stage_out.to', /a pipeline stages out to a host on this machine for now/);
    at(problems(pipeline, { sets: ['pipeline.stage_in.commit=temp-rename'] }), 'pipeline.stage_in.commit', /not with an external stage-in host yet/);
  });

  it('takes only values an ssh_config line, an rsync path and a file name carry safely', () => {
    const bad: [string, string, RegExp][] = [
      ['hosts.target.external.address', '"-oProxyCommand=x"', /a host name or an IP address/],
      ['hosts.target.external.address', '"a b"', /a host name or an IP address/],
      ['hosts.target.external.user', 'Root', /a login name/],
      ['hosts.target.external.port', '0', /at least 1/],
      ['hosts.target.external.identity', '"-i"', /must not start with "-"/],
      ['hosts.target.external.identity', '"/tmp/a key"', /a path of letters/],
      ['hosts.target.external.known_hosts', '"~root/kh"', /a path of letters/],
      ['hosts.target.external.dir', '"../../etc"', /no "\.\."/],
      ['hosts.target.external.dir', '"/"', /not "\/"/],
      ['hosts.target.external.dir', '"a;rm"', /a folder of letters/],
      ['hosts.target.external.password', 'x', /unknown key "password"/],
    ];
    for (const [path, value, pattern] of bad) at(problems(SCENARIO, { sets: [`${path}=${value}`] }), path, pattern);
    // A control character anywhere is refused before the schema reads it.
    assert.ok(problems(SCENARIO, { sets: ['hosts.target.external.dir="a\\nb"'] }).length > 0);
  });

  it('paces starts as a token bucket: a burst at once, then the rate', async () => {
    const pacer = new StartPacer(50, 3, 'external');
    const t0 = performance.now();
    const at: number[] = [];
    await Promise.all(Array.from({ length: 8 }, () => pacer.take().then(() => at.push(performance.now() - t0))));
    // The first three at once; then one every 20 ms: the eighth no sooner than 5 × 20 ms.
    assert.ok(at[2]! < 20, at.join(','));
    for (let k = 3; k < 8; k++) assert.ok(at[k]! >= (k - 2) * 20 - 1, `start ${k} at ${at[k]} ms: ${at.join(',')}`);
    assert.equal(pacer.waits, 5);
    // Interrupted: the rest go at once, nothing waits for the pace.
    const stop = new AbortController();
    stop.abort();
    const t1 = performance.now();
    await Promise.all(Array.from({ length: 20 }, () => pacer.take(stop.signal)));
    assert.ok(performance.now() - t1 < 200);
  });
});
