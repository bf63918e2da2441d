import { ordered } from '../transfers/failure-classifier.js';
import { attemptKey, recordClasses, type AttemptRecord, type TransferRecord } from '../records/transfer-record.js';
import { type FaultRecord } from '../records/fault-record.js';
import { type CellDrops, type DropAgreement } from '../records/cell-record.js';

/** What sshd logged of its MaxStartups drops during one cell repeat, on one host. */
export interface HostDrops {
  /** Its count, rate-limited drops included. */
  count: number;
  /** The client port of each drop it logged a line for, where that port is known for certain. */
  ports: readonly number[];
}

export interface DropAgreementInput {
  transfers: readonly TransferRecord[];
  /** The started hosts a transfer's connections pass, jump hosts first, its destination last. */
  routeOf(t: TransferRecord): readonly string[];
  /** The started host a client reaches at this address and port, if any. */
  hostAt(address: string, port: number): string | undefined;
  /** Hosts whose sshd log is read; a host missing here is not checked (an external one). */
  sshd: Readonly<Record<string, HostDrops>>;
  /** The repeat's fault records, to say when a close came inside a fault's window. */
  faults: readonly FaultRecord[];
}

interface Unit {
  key: string;
  attempt: AttemptRecord;
  route: string[];
  /** Started host → the client ports of this attempt's connections to it. */
  ports: Map<string, number[]>;
}

const zero = (sshd: number): DropAgreement => ({ sshd, client: 0, by_port: 0, by_count: 0, classed_otherwise: 0, not_transfers: 0 });

/**
 * A class must not name a cause the server denies. An attempt the client classed
 * `maxstartups_drop` keeps that class only if the sshd it connected to logged a drop of it: by the
 * client port the connector recorded, or, where that port cannot be known (a hop behind a jump host,
 * NAT, a rate-limited log line), by host and count. Any other is a connection closed before the
 * banner with no drop logged (sshd killed, restarting): classed `connection_reset` (or, behind an
 * earlier cause such as a refused jump host, only loses the class), with the reason and the fault
 * whose window it fell in. Pure; docs/drop-agreement.md has the rules and figures.
 */
export function agreeDrops(input: DropAgreementInput): { transfers: TransferRecord[]; drops: CellDrops } {
  // A batch's files share one invocation's attempts: each is judged once.
  const units = new Map<string, Unit>();
  const allPorts = new Map<string, Set<number>>();
  for (const t of input.transfers) {
    for (const a of t.attempts) {
      const ports = new Map<string, number[]>();
      for (const c of a.connections ?? []) {
        const host = input.hostAt(c.remote.address, c.remote.port);
        if (host === undefined) continue;
        ports.set(host, [...(ports.get(host) ?? []), c.local.port]);
        allPorts.set(host, (allPorts.get(host) ?? new Set()).add(c.local.port));
      }
      const key = attemptKey(t, a);
      if (!units.has(key)) units.set(key, { key, attempt: a, route: [...new Set([...ports.keys(), ...input.routeOf(t)])], ports });
    }
  }
  const hosts: Record<string, DropAgreement> = Object.fromEntries(Object.entries(input.sshd).map(([h, d]) => [h, zero(d.count)]));
  // Logged ports still unmatched per host, and drops that can be matched by count alone.
  const logged = new Map(Object.entries(input.sshd).map(([h, d]) => [h, new Set(d.ports)]));
  const drops = [...units.values()].filter((u) => u.attempt.classes.includes('maxstartups_drop'));
  const unmatched: Unit[] = [];
  // Attempts sharing one connection (an in-process client's channels) share its one drop.
  const matched = new Map<string, Set<number>>();
  for (const u of drops) {
    const hit = [...u.ports].flatMap(([h, ports]) => ports.filter((p) => logged.get(h)?.has(p)).map((p) => [h, p] as const))[0];
    if (hit) matched.set(hit[0], (matched.get(hit[0]) ?? new Set()).add(hit[1]));
    else unmatched.push(u);
  }
  const pool = new Map<string, number>();
  for (const [h, d] of Object.entries(input.sshd)) {
    const left = new Set([...logged.get(h)!].filter((p) => !matched.get(h)?.has(p)));
    hosts[h]!.by_port = matched.get(h)?.size ?? 0;
    const ofOthers = [...left].filter((p) => allPorts.get(h)?.has(p)).length;
    hosts[h]!.classed_otherwise = ofOthers;
    // Lines logged for ports no attempt reported, and drops without a known port (no line: a rate
    // limit; a relay port that cannot be traced to its client).
    pool.set(h, left.size - ofOthers + Math.max(0, d.count - d.ports.length));
  }
  // Each applied fault's window, on the hosts it acted on.
  const windows = input.faults.flatMap((f) =>
    f.type !== 'fault_start' ? [] : [{ fault: f, end: input.faults.find((e) => e.type === 'fault_end' && e.fault === f.fault && e.host === f.host)?.t_ms }],
  );
  const windowOf = (u: Unit) =>
    windows.find((w) => u.route.includes(w.fault.host) && u.attempt.start_ms <= (w.end ?? Infinity) && u.attempt.end_ms >= w.fault.t_ms);
  // Attempts inside a fault's window are the last to be granted a drop by count.
  unmatched.sort((a, b) => Number(windowOf(a) !== undefined) - Number(windowOf(b) !== undefined) || a.attempt.start_ms - b.attempt.start_ms);
  let reclassified = 0;
  let unchecked = 0;
  const replaced = new Map<string, AttemptRecord>();
  for (const u of unmatched) {
    const host = u.route.find((h) => (pool.get(h) ?? 0) > 0);
    if (host !== undefined) {
      pool.set(host, pool.get(host)! - 1);
      hosts[host]!.by_count++;
      continue;
    }
    const checked = u.route.filter((h) => input.sshd[h] !== undefined);
    if (checked.length === 0) {
      unchecked++;
      continue;
    }
    reclassified++;
    const ports = checked.flatMap((h) => u.ports.get(h) ?? []);
    const w = windowOf(u);
    const reason =
      `sshd on ${checked.join(', ')} logged no MaxStartups drop of this connection (${ports.length > 0 ? `client port ${ports.join(', ')}` : 'its client port unknown, and no logged drop left to match by count'})` +
      (w ? `; inside fault ${w.fault.kind} on ${w.fault.host} (${(w.fault.t_ms / 1000).toFixed(1)}–${w.end !== undefined ? (w.end / 1000).toFixed(1) : 'end'} s)` : '');
    const found = new Set(u.attempt.classes.filter((c) => c !== 'maxstartups_drop'));
    // The close explained the failure: it is what it was, a connection closed with no drop.
    // Behind an earlier cause (a jump host that refused), the class only goes.
    if (u.attempt.failure_class === 'maxstartups_drop' || u.attempt.failure_class === null) found.add('connection_reset');
    const { classes, primary } = ordered(found, u.attempt.failure_class !== null);
    replaced.set(u.key, { ...u.attempt, classes, failure_class: primary, reclassified: { from: 'maxstartups_drop', reason } });
  }
  for (const d of Object.values(hosts)) {
    d.client = d.by_port + d.by_count;
    d.not_transfers = Math.max(0, d.sshd - d.client - d.classed_otherwise);
  }
  const transfers = input.transfers.map((t) => {
    if (!t.attempts.some((a) => replaced.has(attemptKey(t, a)))) return t;
    return { ...t, ...recordClasses(t.attempts.map((a) => replaced.get(attemptKey(t, a)) ?? a), t.status) };
  });
  return { transfers, drops: { hosts, reclassified, unchecked } };
}
