import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { agreeDrops, type DropAgreementInput } from '../../src/verification/drop-agreement.js';
import { connectionsIn, connectorLines } from '../../src/ssh/connector.js';
import { renderLaneConfig } from '../../src/transfers/ssh-invocation.js';
import { renderSshClientConfig } from '../../src/ssh/ssh-client-config.js';
import { parseSshdLine } from '../../src/ssh/sshd-log.js';
import type { AttemptRecord, FailureClass, TransferRecord } from '../../src/records/transfer-record.js';
import type { FaultRecord } from '../../src/records/fault-record.js';

// head 127.0.0.2:2222 (a jump host), target 127.0.0.3:2222.
const AT: Record<string, string> = { '127.0.0.2:2222': 'head', '127.0.0.3:2222': 'target' };
const DROP: FailureClass[] = ['maxstartups_drop'];

function attempt(n: number, classes: FailureClass[], conn?: { port: number; to: string }, start = 0, end = 100): AttemptRecord {
  const [address, port] = (conn?.to ?? '127.0.0.3:2222').split(':');
  return {
    attempt: n, start_ms: start, end_ms: end, exit_code: classes.length > 0 ? 255 : 0, signal: null, timed_out: false, classes,
    failure_class: classes[0] ?? null, stderr_tail: '',
    ...(conn ? { connections: [{ local: { address: '127.0.0.1', port: conn.port }, remote: { address: address!, port: Number(port) } }] } : {}),
  };
}

function transfer(file: string, attempts: AttemptRecord[], batch?: string): TransferRecord {
  const failed = attempts.at(-1)!.failure_class !== null;
  return {
    type: 'transfer', cell: 'c', repeat: 1, file, bytes: 1, status: failed ? 'failed' : attempts.length > 1 ? 'recovered' : 'ok', start_ms: 0, end_ms: 100, attempts,
    failure_class: failed ? attempts.at(-1)!.failure_class : null, classes: [...new Set(attempts.flatMap((a) => a.classes))], first_failure_class: attempts.find((a) => a.failure_class)?.failure_class ?? null,
    ...(batch ? { batch } : {}),
  };
}

const input = (transfers: TransferRecord[], sshd: DropAgreementInput['sshd'], extra: Partial<DropAgreementInput> = {}): DropAgreementInput => ({
  transfers,
  routeOf: () => ['target'],
  hostAt: (a, p) => AT[`${a}:${p}`],
  sshd,
  faults: [],
  ...extra,
});

describe('MaxStartups drops as sshd agrees (drop-agreement)', () => {
  it('matches each client drop to the drop sshd logged for its port', () => {
    const t = [transfer('a', [attempt(1, DROP, { port: 40001, to: '127.0.0.3:2222' })]), transfer('b', [attempt(1, DROP, { port: 40002, to: '127.0.0.3:2222' })]), transfer('c', [attempt(1, [], { port: 40003, to: '127.0.0.3:2222' })])];
    const { transfers, drops } = agreeDrops(input(t, { target: { count: 2, ports: [40002, 40001] } }));
    assert.deepEqual(drops, { hosts: { target: { sshd: 2, client: 2, by_port: 2, by_count: 0, classed_otherwise: 0, not_transfers: 0 } }, reclassified: 0, unchecked: 0 });
    assert.deepEqual(transfers, t, 'records sshd backs are unchanged');
  });

  it('a close sshd logged no drop for is connection_reset, attributed to the fault whose window it fell in', () => {
    const faults: FaultRecord[] = [
      { type: 'fault_start', cell: 'c', repeat: 1, fault: 0, kind: 'kill_sshd', host: 'head', t_ms: 1000, detail: '' },
      { type: 'fault_end', cell: 'c', repeat: 1, fault: 0, kind: 'kill_sshd', host: 'head', t_ms: 3000, detail: '' },
    ];
    const t = [transfer('a', [attempt(1, DROP, { port: 40001, to: '127.0.0.2:2222' }, 1500, 1600), attempt(2, [], { port: 40009, to: '127.0.0.2:2222' }, 3100, 3500)])];
    const { transfers, drops } = agreeDrops(input(t, { head: { count: 0, ports: [] }, target: { count: 0, ports: [] } }, { routeOf: () => ['head', 'target'], faults }));
    assert.equal(drops.reclassified, 1);
    const [first, second] = transfers[0]!.attempts;
    assert.deepEqual([first!.classes, first!.failure_class], [['connection_reset'], 'connection_reset']);
    assert.equal(first!.reclassified!.from, 'maxstartups_drop');
    assert.match(first!.reclassified!.reason, /^sshd on head, target logged no MaxStartups drop of this connection \(client port 40001\); inside fault kill_sshd on head \(1\.0–3\.0 s\)$/);
    assert.equal(second!.reclassified, undefined);
    assert.deepEqual([transfers[0]!.status, transfers[0]!.first_failure_class, transfers[0]!.classes], ['recovered', 'connection_reset', ['connection_reset']]);
  });

  it('behind an earlier cause (a refused jump host) the class only goes', () => {
    const t = [transfer('a', [attempt(1, ['connection_refused', 'maxstartups_drop'])])];
    const { transfers, drops } = agreeDrops(input(t, { head: { count: 0, ports: [] }, target: { count: 0, ports: [] } }, { routeOf: () => ['head', 'target'] }));
    assert.deepEqual([transfers[0]!.attempts[0]!.classes, transfers[0]!.failure_class, drops.reclassified], [['connection_refused'], 'connection_refused', 1]);
    assert.match(transfers[0]!.attempts[0]!.reclassified!.reason, /\(its client port unknown, and no logged drop left to match by count\)$/);
  });

  it('a hop behind a jump host, whose port the client cannot know, is matched by host and count', () => {
    const t = [transfer('a', [attempt(1, DROP, { port: 40001, to: '127.0.0.2:2222' })])];
    // target logged the jump host's own connection (its port, not the client's).
    const { drops, transfers } = agreeDrops(input(t, { head: { count: 0, ports: [] }, target: { count: 1, ports: [51234] } }, { routeOf: () => ['head', 'target'] }));
    assert.deepEqual(drops.hosts.target, { sshd: 1, client: 1, by_port: 0, by_count: 1, classed_otherwise: 0, not_transfers: 0 });
    assert.deepEqual(transfers, t);
  });

  it("says which logged drops were classed otherwise by the client and which were no transfer's", () => {
    const t = [transfer('a', [attempt(1, ['connection_refused', 'maxstartups_drop'], { port: 40001, to: '127.0.0.3:2222' })]), transfer('b', [attempt(1, ['connection_refused'], { port: 40002, to: '127.0.0.3:2222' })])];
    const { drops } = agreeDrops(input(t, { target: { count: 3, ports: [40001, 40002, 45555] } }));
    // 40001 is a drop the client also saw; 40002's attempt was classed by an earlier cause; 45555 no attempt opened.
    assert.deepEqual(drops.hosts.target, { sshd: 3, client: 1, by_port: 1, by_count: 0, classed_otherwise: 1, not_transfers: 1 });
  });

  it("judges a batch's shared attempt once, and an in-process client's shared connection as one drop", () => {
    const shared = attempt(1, DROP, { port: 40001, to: '127.0.0.3:2222' });
    const batch = [transfer('a', [shared], 'b0'), transfer('b', [shared], 'b0')];
    assert.deepEqual(agreeDrops(input(batch, { target: { count: 1, ports: [40001] } })).drops.hosts.target!.client, 1);
    const channels = [transfer('a', [attempt(1, DROP, { port: 40001, to: '127.0.0.3:2222' })]), transfer('b', [attempt(1, DROP, { port: 40001, to: '127.0.0.3:2222' })])];
    const { drops } = agreeDrops(input(channels, { target: { count: 1, ports: [40001] } }));
    assert.deepEqual([drops.hosts.target!.by_port, drops.reclassified], [1, 0]);
  });

  it('rate-limited drops (counted, no line) are matched by count; a host whose log is not read leaves the class unchecked', () => {
    const t = [40001, 40002, 40003].map((p, i) => transfer(`f${i}`, [attempt(1, DROP, { port: p, to: '127.0.0.3:2222' })]));
    const { drops } = agreeDrops(input(t, { target: { count: 3, ports: [40001] } }));
    assert.deepEqual([drops.hosts.target!.by_port, drops.hosts.target!.by_count, drops.reclassified], [1, 2, 0]);
    const external = agreeDrops(input(t, {}, { routeOf: () => ['site'] }));
    assert.deepEqual([external.drops.unchecked, external.drops.reclassified], [3, 0]);
    assert.deepEqual(external.transfers, t);
  });

  it('grants a drop by count outside a fault window before inside one', () => {
    const faults: FaultRecord[] = [{ type: 'fault_start', cell: 'c', repeat: 1, fault: 0, kind: 'kill_sshd', host: 'target', t_ms: 500, detail: '' }];
    const t = [transfer('in', [attempt(1, DROP, undefined, 600, 700)]), transfer('out', [attempt(1, DROP, undefined, 100, 200)])];
    const { transfers, drops } = agreeDrops(input(t, { target: { count: 1, ports: [] } }, { faults }));
    assert.deepEqual([drops.hosts.target!.by_count, drops.reclassified], [1, 1]);
    assert.deepEqual(transfers.map((r) => r.failure_class), ['connection_reset', 'maxstartups_drop']);
    assert.match(transfers[0]!.attempts[0]!.reclassified!.reason, /its client port unknown.*inside fault kill_sshd on target \(0\.5–end s\)$/);
  });
});

describe('the connector (client ports)', () => {
  it('reads the connections an attempt opened from its stderr', () => {
    const stderr = 'xferbench: connected from [127.0.0.1]:42174 to [127.0.0.9]:2299\nkex_exchange_identification: Connection closed by remote host\nxferbench: connected from [::1]:5 to [::1]:22\n';
    assert.deepEqual(connectionsIn(stderr), [
      { local: { address: '127.0.0.1', port: 42174 }, remote: { address: '127.0.0.9', port: 2299 } },
      { local: { address: '::1', port: 5 }, remote: { address: '::1', port: 22 } },
    ]);
  });

  it("is every connection's ProxyCommand: a lane's destination with its ConnectTimeout and ConnectionAttempts; a jump host through the base block", () => {
    assert.deepEqual(connectorLines('/usr/bin/perl /x/connect-fd.pl', { ConnectTimeout: '5', ConnectionAttempts: '3' }), ['  ProxyCommand /usr/bin/perl /x/connect-fd.pl %h %p 5 3', '  ProxyUseFdpass yes']);
    const base = renderSshClientConfig({ hosts: [], identityFile: '/k', knownHostsFile: '/kh' });
    assert.doesNotMatch(base, /ProxyCommand/, "the client's own config (mux checks, logins) has none");
    const direct = renderLaneConfig({ base, host: 'target', via: [], mux: 'off', controlDir: '/c', options: { ConnectTimeout: '7' }, connector: '/usr/bin/perl /x/c.pl' });
    assert.match(direct, /^Host target\n  ProxyCommand \/usr\/bin\/perl \/x\/c\.pl %h %p 7 1\n  ProxyUseFdpass yes\n/m);
    // ssh keeps the first of ProxyJump and ProxyCommand: the lane's jump, then the Host * connector for the hop.
    const jump = renderLaneConfig({ base, host: 'target', via: ['head'], mux: 'off', controlDir: '/c', options: {}, connector: '/usr/bin/perl /x/c.pl' });
    assert.match(jump, /^Host target\n  ProxyJump head\n  ControlMaster no\n  ControlPath none\n\nHost \*\n  ProxyCommand \/usr\/bin\/perl \/x\/c\.pl %h %p 0 1\n  ProxyUseFdpass yes\n\n# ssh_config generated/m);
    assert.doesNotMatch(renderLaneConfig({ base, host: 'target', via: [], mux: 'off', controlDir: '/c', options: {} }), /ProxyCommand/, 'client_ports: false');
  });

  it("parses the client's address and port from sshd's drop line", () => {
    assert.deepEqual(parseSshdLine('drop connection #10 from [127.0.0.1]:57496 on [127.0.0.2]:2222 past MaxStartups').peer, { address: '127.0.0.1', port: 57496 });
    assert.deepEqual(parseSshdLine('drop connection #3 from [::1]:5 on [::1]:22 Maxstartups').peer, { address: '::1', port: 5 });
  });
});
