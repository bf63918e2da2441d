import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DatasetPlan, Manifest } from '../dataset/dataset.js';
import type { HostFiles } from '../hosts/host-files.js';
import type { OpenSshTools } from '../hosts/openssh-tools.js';
import { diffCounters, type SshdCounters } from '../hosts/sshd-log.js';
import type { StartedTopology } from '../hosts/topology.js';
import type { PlanCell } from '../plan/plan.js';
import { succeeded, type CellRecord, type TransferRecord } from '../records/transfer-record.js';
import { MuxSession } from '../transfers/mux-session.js';
import { runTransferPool } from '../transfers/transfer-pool.js';
import { sshOptions } from '../transfers/ssh-invocation.js';
import type { Endpoint, TransferTool } from '../transfers/transfer-tool.js';
import { silentDrops, verifyDestination } from '../verification/verify.js';
import type { VerificationRecord } from '../records/transfer-record.js';

/** Where a dataset was materialised, and what it must look like wherever it is copied. */
export interface PlacedDataset {
  plan: DatasetPlan;
  manifest: Manifest;
  /** The side holding the source files (undefined host: the client). */
  source: { host?: string; dir: string };
}

export interface CellRepeatInput {
  cell: PlanCell;
  repeat: number;
  topology: StartedTopology;
  dataset: PlacedDataset;
  tool: TransferTool;
  tools: OpenSshTools;
  clock: () => number;
  /** Short per-repeat directory for ControlMaster sockets. */
  controlDir: string;
  scratchDir: string;
  signal?: AbortSignal;
  onTransfer: (record: TransferRecord) => void;
}

export interface CellRepeatResult {
  transfers: TransferRecord[];
  verification: VerificationRecord;
  cell: CellRecord;
}

const LOG_QUIET_MS = 150;
const LOG_SETTLE_MAX_MS = 2000;

/** sshd writes a drop line before closing the socket; give our reader a moment to see it. */
async function settleLogs(topology: StartedTopology): Promise<void> {
  const deadline = Date.now() + LOG_SETTLE_MAX_MS;
  while (Date.now() < deadline && [...topology.hosts.values()].some((h) => h.log.idleFor() < LOG_QUIET_MS)) {
    await sleep(25);
  }
}

/** Runs one repeat of one cell: fresh destination, mux set-up, N transfers, verification. */
export async function runCellRepeat(input: CellRepeatInput): Promise<CellRepeatResult> {
  const { cell, repeat, topology, dataset, tool, clock, signal } = input;
  const t = cell.scenario.transfer;
  const cellName = cell.id;

  // Destination: the other side of the transfer; cp copies locally as the no-network baseline.
  const remote = t.to;
  const destination: { host?: string; dir: string; files: HostFiles } =
    !tool.usesSsh
      ? { dir: join(topology.client.dataRoot, 'cp-dest'), files: topology.client.files }
      : t.direction === 'push'
        ? { host: remote, dir: join(topology.host(remote).dataRoot, 'dest'), files: topology.host(remote).files }
        : { dir: join(topology.client.dataRoot, 'dest'), files: topology.client.files };
  await destination.files.prepare(destination.dir, dataset.plan.dirs);

  const options = sshOptions({ configPath: topology.client.sshConfigPath, via: t.via, mux: t.mux, controlDir: input.controlDir, extra: t.ssh_options });
  const ssh = { ssh: input.tools.ssh, options };
  await using mux = new MuxSession({ mode: tool.usesSsh ? t.mux : 'off', ssh: input.tools.ssh, options, host: remote, controlDir: input.controlDir });
  const muxStatus = await mux.open(signal);

  const before = new Map<string, SshdCounters>([...topology.hosts].map(([name, h]) => [name, h.log.snapshot()]));
  const start = clock();
  const endpoint = (host: string | undefined, dir: string, path: string): Endpoint => ({ ...(host ? { host } : {}), path: join(dir, path) });
  const jobs = dataset.plan.entries.map((entry) => ({
    entry,
    source: endpoint(tool.usesSsh ? dataset.source.host : undefined, dataset.source.dir, entry.path),
    dest: endpoint(destination.host, destination.dir, entry.path),
    ssh,
    rsyncArgs: t.rsync_args,
  }));
  const transfers = await runTransferPool(
    jobs,
    t.concurrency,
    {
      tool,
      retries: t.retries,
      backoffMs: t.backoff_ms,
      backoffMaxMs: t.backoff_max_ms,
      timeoutMs: t.timeout_s * 1000,
      clientVersion: input.tools.sshVersion,
      clock,
      scratchDir: input.scratchDir,
      ...(signal ? { signal } : {}),
    },
    { cell: cellName, repeat },
    input.onTransfer,
  );
  const end = transfers.reduce((m, r) => Math.max(m, r.end_ms), start);
  await mux.close();
  await settleLogs(topology);

  const sshd: Record<string, SshdCounters> = {};
  const events: CellRecord['sshd_events'] = [];
  for (const [name, host] of topology.hosts) {
    sshd[name] = diffCounters(host.log.snapshot(), before.get(name)!);
    for (const e of host.log.events) if (e.t >= start) events.push({ ...e, host: name });
  }

  const found = await destination.files.scan(destination.dir);
  const { counts, problems, verdicts } = verifyDestination(dataset.manifest, found);
  const drops = silentDrops(transfers, verdicts);
  const verification: VerificationRecord = { type: 'verification', cell: cellName, repeat, counts, problems, silent_drops: drops };
  const byPath = new Map(dataset.manifest.map((m) => [m.path, m.size]));
  const cellRecord: CellRecord = {
    type: 'cell',
    cell: cellName,
    cell_index: cell.index,
    values: cell.values,
    repeat,
    start_ms: start,
    end_ms: end,
    files: transfers.length,
    bytes_ok: [...verdicts].filter(([, v]) => v === 'ok').reduce((n, [p]) => n + (byPath.get(p) ?? 0), 0),
    ok: transfers.filter(succeeded).length,
    failed: transfers.filter((r) => r.status === 'failed').length,
    recovered: transfers.filter((r) => r.status === 'recovered').length,
    canceled: transfers.filter((r) => r.status === 'canceled').length,
    silent_drops: drops.length,
    sshd,
    sshd_events: events,
    mux: muxStatus,
  };
  return { transfers, verification, cell: cellRecord };
}
