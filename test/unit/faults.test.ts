import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { parseScenario } from '../../src/plan/load-plan.js';
import { laneSettings } from '../../src/faults/registry.js';
import { renderLaneConfig } from '../../src/transfers/ssh-invocation.js';
import { parseDuration } from '../../src/util/duration.js';

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
});
