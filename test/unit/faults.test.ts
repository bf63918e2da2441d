import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { parseScenario } from '../../src/plan/load-plan.js';
import { laneSettings } from '../../src/faults/registry.js';
import { renderLaneConfig } from '../../src/transfers/ssh-invocation.js';
import { parseDuration } from '../../src/util/duration.js';
import { renderTable } from '../../src/hosts/nft-table.js';

const scenario = (faults: string, mux = 'cold') => `name: f
hosts: { target: {} }
dataset: { files: 2, size: 1KiB }
transfer: { to: target, mux: ${mux} }
faults: ${faults}
`;

describe('faults (pure parts)', () => {
  it('reads durations and shares of transfers', () => {
    assert.deepEqual([parseDuration('500ms'), parseDuration('2s'), parseDuration('1.5m')], [500, 2000, 90_000]);
    assert.match(String(parseDuration('soon')), /not a duration/);
    const loaded = parseScenario(scenario('[{ kind: kill_sshd, host: target, at: "30%", for: 2s }]'), 'f.yaml');
    assert.deepEqual(loaded.scenario.faults, [{ kind: 'kill_sshd', host: 'target', at: { fraction: 0.3 }, for: 2000 }]);
  });

  it('master_expiry sets the cold masters\' ControlPersist of every lane, in whole seconds, and only with mux: cold', () => {
    const loaded = parseScenario(scenario('[{ kind: master_expiry, persist: 2s }]'), 'f.yaml');
    const settings = laneSettings(loaded.scenario.faults);
    assert.deepEqual(settings, { controlPersistS: 2 });
    const config = renderLaneConfig({ base: '', host: 'target', via: [], mux: 'cold', controlDir: '/tmp/xb-x/c', options: {}, ...settings });
    assert.match(config, /ControlPersist 2\n/);
    assert.throws(() => parseScenario(scenario('[{ kind: master_expiry, persist: 2s }]', 'warm'), 'f.yaml'), /faults\[0\]\.kind .*set transfer\.mux: cold/);
    assert.throws(() => parseScenario(scenario('[{ kind: master_expiry, persist: 1500ms }]'), 'f.yaml'), /whole seconds/);
  });

  it('a host fault names its host; a client fault need not', () => {
    assert.throws(() => parseScenario(scenario('[{ kind: pause_sshd }]'), 'f.yaml'), /faults\[0\]\.host .*acts on a host/);
    assert.doesNotThrow(() => parseScenario(scenario('[{ kind: kill_master, at: 1s }]', 'warm'), 'f.yaml'));
  });

  it('traffic rules police what goes to the host where it is sent (loopback) or where it arrives (a container\'s namespace)', () => {
    const rules = (inbound: 'input' | 'output') => renderTable('xferbench_ab', '10.89.0.2', 22, { rateBytesPerS: 2e6, resetShare: 0.5 }, inbound);
    const chainOf = (text: string, hook: string) => /chain (\w+) \{[^}]*\}/g.exec(text.slice(text.indexOf(`chain ${hook} {`)))![0];
    const toHost = 'ip daddr 10.89.0.2 tcp dport 22 limit rate over 2000000 bytes/second';
    assert.ok(chainOf(rules('output'), 'output').includes(toHost));
    assert.ok(chainOf(rules('input'), 'input').includes(toHost));
    assert.ok(!chainOf(rules('input'), 'output').includes(toHost));
    for (const inbound of ['input', 'output'] as const) {
      assert.ok(chainOf(rules(inbound), 'output').includes('ip saddr 10.89.0.2 tcp sport 22 limit rate over 2000000 bytes/second'));
      assert.ok(chainOf(rules(inbound), 'input').includes('reject with tcp reset'));
    }
    // Every fault acts on container hosts too; without root the schema refuses it and says why.
    const onContainer = () => parseScenario(scenario('[{ kind: bandwidth, host: target, rate: 8mbit }]').replace('name: f', 'name: f\nbackend: container'), 'f.yaml');
    if (process.getuid?.() === 0) assert.doesNotThrow(onContainer);
    else assert.throws(onContainer, /needs root/);
  });
});
