import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { parseScenario } from '../../src/plan/load-plan.js';
import { ScenarioError } from '../../src/util/errors.js';

const BASE = `name: t
hosts:
  target: { link: { rtt: 20ms } }
dataset: { files: 4, size: 1KiB }
transfer: { to: target }
`;

function issues(sets: string[]): readonly { path: string; message: string }[] {
  try {
    parseScenario(BASE, 'x.yaml', sets);
  } catch (e) {
    assert.ok(e instanceof ScenarioError);
    return e.issues;
  }
  return [];
}

describe('link: and start_rate, as a scenario gives them', () => {
  it('takes a round trip with fractions of a millisecond, a jitter and a rate, and a matrix over them', () => {
    const { plan } = parseScenario(BASE, 'x.yaml', ['hosts.target.link={rtt: 0.2ms, jitter: 0.1ms, rate: 100mbit}', 'matrix={hosts.target.link.rtt: [0.1ms, 80ms]}']);
    assert.deepEqual(plan.cells.map((c) => c.scenario.hosts.target!.link), [{ rtt: 0.1, jitter: 0.1, rate: 12_500_000 }, { rtt: 80, jitter: 0.1, rate: 12_500_000 }]);
    // Two round trips are two host configurations: each its own topology.
    assert.equal(plan.groups.length, 2);
  });

  it('takes a link on a container host as on a local one', () => {
    assert.deepEqual(issues(['backend=container', 'hosts.target.link={rtt: 20ms}']), []);
  });

  it('refuses, each at its place, what a relay cannot be', () => {
    const at = (sets: string[], path: string, pattern: RegExp) => {
      const found = issues(sets);
      assert.ok(found.some((i) => i.path === path && pattern.test(i.message)), JSON.stringify(found));
    };
    at(['hosts.target.link={rtt: 20ms, jitter: 30ms}'], 'hosts.target.link.jitter', /at most the round trip/);
    at(['hosts.target.link={rtt: 11s}'], 'hosts.target.link.rtt', /longer than 10 s/);
    at(['hosts.target.link={rtt: 20}'], 'hosts.target.link.rtt', /expected text, found the number 20/);
    at(['hosts.target.link={rtt: 20ms, rate: fast}'], 'hosts.target.link.rate', /not a rate such as/);
    at(['hosts.target.link={rtt: 20ms, loss: 1}'], 'hosts.target.link.loss', /unknown key/);
    at(['hosts.target.external={address: dtn.example.org, user: a, identity: k, known_hosts: kh, dir: x}'], 'hosts.target.link', /no link in front of this host: a site's server/);
    at(['transfer.start_rate=0'], 'transfer.start_rate', /./);
    at(['executor=slurm', 'transfer.start_rate=5'], 'transfer.start_rate', /executor: slurm cannot keep a start rate/);
  });
});
