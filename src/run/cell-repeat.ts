import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { DatasetPlan, Manifest } from '../dataset/dataset.js';
import type { HostFiles } from '../hosts/host-files.js';
import { destinationDir, type StartedHost } from '../hosts/host.js';
import type { DirectEndpoint } from '../transfers/ssh2-sftp-tool.js';
import type { OpenSshTools } from '../hosts/openssh/openssh-tools.js';
import { diffCounters, type SshdCounters } from '../hosts/openssh/sshd-log.js';
import type { OpenSshVersion } from '../hosts/openssh/openssh-version.js';
import { innerAlias, type ClientSide, type StartedTopology } from '../hosts/topology.js';
import type { PlanCell } from '../plan/plan.js';
import { succeeded, type CellRecord, type FaultRecord, type FileVerdict, type TransferRecord } from '../records/transfer-record.js';
import { scheduleFaults } from '../faults/fault-schedule.js';
import { laneSettings } from '../faults/registry.js';
import { MuxSession, type MuxStatus } from '../transfers/mux-session.js';
import type { Launcher } from '../transfers/launcher.js';
import { runTransferPool } from '../transfers/transfer-pool.js';
import { laneSshOptions, renderLaneConfig, renderSshWrapper } from '../transfers/ssh-invocation.js';
import type { Endpoint, SshInvocation, TransferJob, TransferTool } from '../transfers/transfer-tool.js';
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
  /** ssh version of the client side (the machine's, or the client container's). */
  clientVersion: OpenSshVersion;
  clock: () => number;
  /** Short per-repeat directory for ControlMaster sockets. */
  controlDir: string;
  /** The run's client key (in-process clients read it; command-line tools get it from the ssh_config). */
  clientKeyPath: string;
  launcher: Launcher;
  signal?: AbortSignal;
  onTransfer: (record: TransferRecord) => void;
  /** fault_start / fault_end records, as the cell's faults are applied and undone. */
  onFault: (record: FaultRecord) => void;
}

export interface CellRepeatResult {
  transfers: TransferRecord[];
  verification: VerificationRecord;
  cell: CellRecord;
}

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

/** One client side talking to one remote host: its own ssh options and, with mux, its own master. */
interface Lane {
  client: ClientSide;
  /** The remote host's alias as this client reaches it (through the jump hosts). */
  remote: string;
  /** Where a client without the ssh binary reaches the remote host (in-process or own-library tools). */
  direct: DirectEndpoint | undefined;
  ssh: SshInvocation;
  mux: MuxSession;
  /** The lane's ssh_config (written before the first transfer) and its text; none for cp. */
  config: { path: string; text: string } | undefined;
  /** An `ssh` reading that config, for tools that run ssh themselves. */
  wrapper: { bin: string; text: string } | undefined;
}

/** Combines the masters of every lane into the cell's mux status. */
function muxSummary(statuses: MuxStatus[]): MuxStatus {
  const failed = statuses.find((s) => s.master_ok === false);
  const first = statuses[0]!;
  if (failed) return { ...failed, ...(statuses.length > 1 ? { master_error: `${statuses.filter((s) => s.master_ok === false).length} of ${statuses.length} masters failed; first: ${failed.master_error}` } : {}) };
  return first;
}

/**
 * The host itself, as this client reaches it without ssh (an in-process client, a tool with its
 * own SSH library): its published address, or its network address from a client container.
 */
function directEndpoint(host: StartedHost, client: ClientSide): DirectEndpoint {
  const at = client.exec ? (host.innerEndpoint ?? host.endpoint) : host.endpoint;
  return { address: at.address, port: at.port, user: host.user, privateKeyPath: host.identityFile ?? client.identityFile, hostKeys: host.hostKeys, knownHostsPath: client.knownHostsPath };
}

/**
 * A file of a failed batch invocation: the tool said nothing about it alone, so verification
 * does. One that arrived intact is ok; one that did not keeps the invocation's failure. The
 * invocation's own exit and messages stay in the attempts, and a file missing after an invocation
 * that exited 0 is a silent drop as for any tool.
 */
function batchFileOutcome(record: TransferRecord, verdict: FileVerdict | undefined): TransferRecord {
  if (record.status !== 'failed' || verdict !== 'ok') return record;
  return { ...record, status: 'ok', failure_class: null };
}

/**
 * unit: batch — one invocation per lane and destination, for the files dealt to it: its source
 * and destination are the folders, its files are listed in a file (rsync --files-from style).
 */
async function batchJobs(
  perFile: readonly { job: TransferJob; lane: Lane; dest: { host?: string; dir: string }; remote: string | undefined }[],
  dataset: PlacedDataset,
  controlDir: string,
): Promise<TransferJob[]> {
  const groups = new Map<Lane, Map<object, typeof perFile[number][]>>();
  for (const p of perFile) {
    const byDest = groups.get(p.lane) ?? new Map<object, typeof perFile[number][]>();
    byDest.set(p.dest, [...(byDest.get(p.dest) ?? []), p]);
    groups.set(p.lane, byDest);
  }
  const jobs: TransferJob[] = [];
  for (const byDest of groups.values()) {
    for (const members of byDest.values()) {
      const first = members[0]!;
      const id = `b${jobs.length}`;
      const listFile = join(controlDir, `${id}.files`);
      const workDir = join(controlDir, `${id}.work`);
      await writeFile(listFile, members.map((m) => `${m.job.entry.path}\n`).join(''), { mode: 0o600 });
      await mkdir(workDir, { mode: 0o700 });
      jobs.push({
        ...first.job,
        source: { ...(dataset.source.host ? { host: first.remote! } : {}), path: dataset.source.dir },
        dest: { ...(first.dest.host ? { host: first.remote! } : {}), path: first.dest.dir },
        batch: { id, entries: members.map((m) => m.job.entry), listFile, workDir },
      });
    }
  }
  return jobs;
}

/**
 * Runs one repeat of one cell: fresh destination, mux set-up, N transfers, verification. Files
 * are dealt round-robin over the client sides (client containers with `count`) and over the
 * destination's replicas.
 */
export async function runCellRepeat(input: CellRepeatInput): Promise<CellRepeatResult> {
  const { cell, repeat, topology, dataset, tool, clock, signal } = input;
  const t = cell.scenario.transfer;
  const cellName = cell.id;
  const clients = topology.clients;

  // Destination: the other side of the transfer; cp copies locally as the no-network baseline.
  const remotes = tool.usesSsh ? (t.direction === 'push' ? topology.replicas(t.to) : [dataset.source.host ?? t.to]) : [undefined];
  const destinations: { host?: string; dir: string; files: HostFiles }[] =
    tool.usesSsh && t.direction === 'push'
      ? remotes.map((r) => ({ host: r!, dir: destinationDir(topology.host(r!)), files: topology.host(r!).files }))
      : [{ dir: join(topology.client.dataRoot, tool.usesSsh ? 'dest' : 'cp-dest'), files: topology.client.files }];
  for (const d of destinations) await d.files.prepare(d.dir, dataset.plan.dirs);

  const lanes = new Map<string, Lane>();
  const laneFor = (i: number): Lane => {
    const client = clients[i % clients.length]!;
    const remote = remotes[i % remotes.length];
    const key = `${client.name}>${remote ?? ''}`;
    let lane = lanes.get(key);
    if (!lane) {
      const route = remote ? client.route(remote, t.via) : { to: '', via: [] };
      const controlDir = join(input.controlDir, `l${lanes.size}`);
      // cp (no remote) needs no ssh configuration at all.
      const config = remote ? { path: `${controlDir}.ssh_config`, text: renderLaneConfig({ base: client.sshConfig, host: route.to, via: route.via, mux: t.mux, controlDir, options: t.ssh_options, ...laneSettings(cell.scenario.faults) }) } : undefined;
      const options = config ? laneSshOptions(config.path) : [];
      // A client container's ssh is its own; the wrapper there must not find itself on PATH.
      const wrapper = config && tool.runsSsh ? { bin: `${controlDir}.bin`, text: renderSshWrapper(client.exec ? '/usr/bin/ssh' : input.tools.ssh, config.path) } : undefined;
      const ssh = { ssh: client.ssh ?? input.tools.ssh, options, via: route.via, ...(config ? { configPath: config.path } : {}), ...(wrapper ? { bin: wrapper.bin } : {}) };
      const mux = new MuxSession({ mode: tool.usesSsh ? t.mux : 'off', ssh: ssh.ssh, options, host: route.to, controlDir, ...(client.exec ? { exec: client.exec } : {}) });
      const direct = (tool.run || tool.runsSsh) && remote ? directEndpoint(topology.host(remote), client) : undefined;
      lanes.set(key, (lane = { client, remote: route.to, direct, ssh, mux, config, wrapper }));
    }
    return lane;
  };
  const endpoint = (host: string | undefined, dir: string, path: string): Endpoint => ({ ...(host ? { host } : {}), path: join(dir, path) });
  const perFile = dataset.plan.entries.map((entry, i) => {
    const lane = laneFor(i);
    const remote = tool.usesSsh ? lane.remote : undefined;
    const dest = destinations[i % destinations.length]!;
    const job: TransferJob = {
      entry,
      source: endpoint(dataset.source.host ? remote : undefined, dataset.source.dir, entry.path),
      dest: endpoint(dest.host ? remote : undefined, dest.dir, entry.path),
      ssh: lane.ssh,
      ...(lane.client.exec ? { exec: lane.client.exec } : {}),
      ...(lane.direct ? { direct: lane.direct } : {}),
    };
    return { job, lane, dest, remote };
  });
  // The control base is shared with client containers, so they read the same lane configs.
  await mkdir(input.controlDir, { recursive: true, mode: 0o700 });
  const jobs = t.unit === 'batch' ? await batchJobs(perFile, dataset, input.controlDir) : perFile.map((p) => p.job);
  await Promise.all([...lanes.values()].map((l) => l.config && writeFile(l.config.path, l.config.text, { mode: 0o600 })));
  await Promise.all(
    [...lanes.values()].map(async ({ wrapper }) => {
      if (!wrapper) return;
      await mkdir(wrapper.bin, { mode: 0o700 });
      await writeFile(join(wrapper.bin, 'ssh'), wrapper.text, { mode: 0o700 });
    }),
  );
  await using _masters = { [Symbol.asyncDispose]: async () => void (await Promise.all([...lanes.values()].map((l) => l.mux.close()))) };
  // An in-process client's connections end with the repeat, however it ends.
  await using toolSession = { [Symbol.asyncDispose]: async () => void (await tool.close?.()) };
  const muxStatus = muxSummary(await Promise.all([...lanes.values()].map((l) => l.mux.open(signal))));

  const before = new Map<string, SshdCounters>([...topology.hosts].flatMap(([name, h]) => (h.log ? [[name, h.log.snapshot()] as const] : [])));
  const start = clock();
  const batch = t.unit === 'batch';
  // Faults start with the transfers and are undone when they end (or on any exit from here).
  await using faults = scheduleFaults(cell.scenario.faults, {
    cell: cellName, repeat, total: jobs.length, clock, write: input.onFault,
    hosts: (n) => topology.replicas(n).map((r) => topology.host(r)),
    masters: (n) => [...lanes.values()].filter((l) => n === undefined || topology.replicas(n).some((r) => l.remote === r || l.remote === innerAlias(r))).map((l) => l.mux),
  });
  const ran = await runTransferPool(
    jobs,
    // A batch tool gets the concurrency itself ({concurrency}); its invocations all start at once.
    t.unit === 'batch' ? jobs.length : t.concurrency,
    {
      tool,
      retries: t.retries,
      backoffMs: t.backoff_ms,
      backoffMaxMs: t.backoff_max_ms,
      timeoutMs: t.timeout_s * 1000,
      clientVersion: input.clientVersion,
      clock,
      launcher: input.launcher,
      onStart: () => faults.transferStarted(),
      ...(signal ? { signal } : {}),
    },
    { cell: cellName, repeat },
    // A batch's files are recorded after verification, which says which of them arrived.
    batch ? undefined : input.onTransfer,
  );
  await faults.stop();
  await toolSession[Symbol.asyncDispose]();
  const end = ran.reduce((m, r) => Math.max(m, r.end_ms), start);
  await Promise.all([...lanes.values()].map((l) => l.mux.close()));
  await settleLogs(topology);

  const sshd: Record<string, SshdCounters> = {};
  const events: CellRecord['sshd_events'] = [];
  // An external host's sshd counts nothing here: its log is not ours to read.
  for (const [name, host] of topology.hosts) {
    if (!host.log) continue;
    sshd[name] = diffCounters(host.log.snapshot(), before.get(name)!);
    for (const e of host.log.events) if (e.t >= start) events.push({ ...e, host: name });
  }

  const found = (await Promise.all(destinations.map((d) => d.files.scan(d.dir)))).flat();
  const { counts, problems, verdicts } = verifyDestination(dataset.manifest, found);
  const drops = silentDrops(ran, verdicts);
  const transfers = batch ? ran.map((r) => batchFileOutcome(r, verdicts.get(r.file))) : ran;
  if (batch) for (const r of transfers) input.onTransfer(r);
  const verification: VerificationRecord = { type: 'verification', cell: cellName, repeat, counts, problems, silent_drops: drops };
  const byPath = new Map(dataset.manifest.map((m) => [m.path, m.size]));
  const cellRecord: CellRecord = {
    type: 'cell',
    cell: cellName,
    cell_index: cell.index,
    values: cell.values,
    repeat,
    concurrency: t.concurrency,
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
