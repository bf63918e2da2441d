import { setTimeout as sleep } from 'node:timers/promises';
import { diffCounters } from '../ssh/sshd-log.js';
import { type SshdCounters } from '../records/sshd-events.js';
import type { StartedTopology } from '../hosts/topology.js';
import type { CellRecord } from '../records/cell-record.js';

// Every line counted (drops, refusals, logins) is written before the client sees its effect, so
// it is in by syncLog(); the short quiet window only lets closing lines (end of throttling) in.
const LOG_QUIET_MS = 20;
const LOG_SETTLE_MAX_MS = 2000;

async function settleLogs(topology: StartedTopology): Promise<void> {
  await Promise.all([...topology.hosts.values()].map((h) => h.syncLog()));
  const deadline = Date.now() + LOG_SETTLE_MAX_MS;
  while (Date.now() < deadline && [...topology.hosts.values()].some((h) => h.log !== undefined && h.log.idleFor() < LOG_QUIET_MS)) {
    await sleep(25);
  }
}

/**
 * What every host's sshd logged from now until close(): counter deltas and events, for a cell
 * repeat's record. An external host's sshd counts nothing here: its log is not ours to read.
 */
export function openSshdWindow(topology: StartedTopology, start: number) {
  const before = new Map<string, SshdCounters>([...topology.hosts].flatMap(([name, h]) => (h.log ? [[name, h.log.snapshot()] as const] : [])));
  return {
    async close(): Promise<Pick<CellRecord, 'sshd' | 'sshd_events' | 'sshd_unobserved'>> {
      await settleLogs(topology);
      const sshd: Record<string, SshdCounters> = {};
      const events: CellRecord['sshd_events'] = [];
      const unobserved: string[] = [];
      for (const [name, host] of topology.hosts) {
        if (!host.log) {
          unobserved.push(name);
          continue;
        }
        sshd[name] = diffCounters(host.log.snapshot(), before.get(name)!);
        for (const e of host.log.events) if (e.t >= start) events.push({ ...e, host: name });
      }
      return { sshd, sshd_events: events, ...(unobserved.length > 0 ? { sshd_unobserved: unobserved } : {}) };
    },
  };
}
