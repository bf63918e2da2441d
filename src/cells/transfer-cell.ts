import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { planDataset } from '../dataset/dataset.js';
import type { TransferSpec } from '../transfers/transfer-spec.js';
import { createTool } from '../transfers/tool-registry.js';
import type { CellContext, CellKind, CellRepeatResult, PlacedDataset } from './cell-kind.js';
import type { HostFiles } from '../hosts/host-files.js';
import { destinationDir } from '../hosts/host.js';
import { RepeatFrame } from './repeat-frame.js';
import { runCommand } from '../process/run-command.js';
import { HostStartError } from '../util/errors.js';
import type { ClientSide, StartedTopology } from '../hosts/topology.js';
import { type TransferRecord } from '../records/transfer-record.js';
import { type FaultRecord } from '../records/fault-record.js';
import { type CellRecord, type FileVerdict } from '../records/cell-record.js';
import { laneSettings } from '../faults/registry.js';
import { makeLane, type Lane } from '../transfers/lane.js';
import type { Endpoint, TransferJob, TransferTool } from '../transfers/transfer-tool.js';
import { silentDrops, verifyDestination } from '../verification/verify.js';
import { agreeDrops } from '../verification/drop-agreement.js';
import type { VerificationRecord } from '../records/cell-record.js';

interface CellRepeatInput extends CellContext {
  repeat: number;
  transfer: TransferSpec;
  dataset: PlacedDataset;
  tool: TransferTool;
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

/** A record whose class sshd's log must confirm before it is written (verification/drop-agreement.ts). */
const awaitsSshd = (r: TransferRecord) => r.classes.includes('maxstartups_drop');

/** The started host a client reaches at an address and port (its published or its network endpoint). */
function hostAt(topology: StartedTopology): (address: string, port: number) => string | undefined {
  const at = new Map<string, string>();
  for (const [name, h] of topology.hosts) for (const e of [h.endpoint, h.innerEndpoint]) if (e) at.set(`${e.address}\u0000${e.port}`, name);
  return (address, port) => at.get(`${address}\u0000${port}`);
}

/**
 * Runs one repeat of one cell: fresh destination, mux set-up, N transfers, verification. Files
 * are dealt round-robin over the client sides (client containers with `count`) and over the
 * destination's replicas.
 */
async function runCellRepeat(input: CellRepeatInput): Promise<CellRepeatResult> {
  const { cell, repeat, topology, dataset, tool, clock, signal } = input;
  const t = input.transfer;
  await using frame = await RepeatFrame.open(input, repeat);
  const { controlDir } = frame;
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
      const laneDir = join(controlDir, `l${lanes.size}`);
      lane = makeLane({
        client, remote: remote ? topology.host(remote) : undefined, via: t.via, mux: t.mux, sshOptions: t.ssh_options, controlDir: laneDir, ssh: input.tools.ssh,
        usesSsh: tool.usesSsh, runsSsh: tool.runsSsh === true,
        // A user's own command owns its stderr, where the connector writes (fpsync fails a run
        // whose rsyncs printed anything): it connects on its own, and its drops match by count.
        clientPorts: t.client_ports && tool.runsSsh !== true, direct: tool.run !== undefined || tool.runsSsh === true, ...laneSettings(cell.scenario.faults),
      });
      lanes.set(key, lane);
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
    return { job, lane, dest, remote, route: [...t.via.flatMap((v) => topology.replicas(v)), ...(remotes[i % remotes.length] ? [remotes[i % remotes.length]!] : [])] };
  });
  const routes = new Map(perFile.map((p) => [p.job.entry.path, p.route]));
  const jobs = t.unit === 'batch' ? await batchJobs(perFile, dataset, controlDir) : perFile.map((p) => p.job);
  // An in-process client's connections end with the repeat, however it ends.
  await using toolSession = { [Symbol.asyncDispose]: async () => void (await tool.close?.()) };
  await frame.openLanes(lanes.values());

  frame.begin();
  const { start } = frame;
  const batch = t.unit === 'batch';
  const faultRecords: FaultRecord[] = [];
  // Faults start with the transfers and are undone when they end (or on any exit from here).
  const faults = frame.startFaults(cell.scenario.faults, {
    total: jobs.length,
    write: (r) => {
      faultRecords.push(r);
      input.write(r);
    },
  });
  const ran = await input.executor.run({
    jobs,
    // A batch tool gets the concurrency itself ({concurrency}); its invocations all start at once.
    concurrency: t.unit === 'batch' ? jobs.length : t.concurrency,
    transfer: t,
    workDir: controlDir,
    policy: {
      tool,
      retries: t.retries,
      backoffMs: t.backoff_ms,
      backoffMaxMs: t.backoff_max_ms,
      timeoutMs: t.timeout_s * 1000,
      clientVersion: input.clientVersion,
      clock,
      launcher: input.launcher,
      onStart: () => faults.transferStarted(),
      ...(frame.pacer ? { pace: frame.pacer } : {}),
      ...(signal ? { signal } : {}),
    },
    where: { cell: cellName, repeat },
    // Recorded as they complete, except what sshd's log must confirm first (a MaxStartups drop),
    // shown now and recorded once the log is read; a batch's files once verified.
    ...(batch ? {} : { onRecord: (r: TransferRecord) => (awaitsSshd(r) ? input.showTransfer(r) : input.onTransfer(r)) }),
  });
  await frame.stop(() => toolSession[Symbol.asyncDispose]());
  const end = ran.reduce((m, r) => Math.max(m, r.end_ms), start);
  const seen = await frame.sshdSeen();
  const { sshd, sshd_events: events } = seen;
  // sshd behind a link logs the relay's port: each drop is matched by the client's port behind it.
  // One not known for certain is left out of the ports, so its drop is matched by count.
  await Promise.all([...topology.hosts.values()].map((h) => h.link?.sync()));
  const clientPort = (h: string, port: number) => {
    const link = topology.hosts.get(h)?.link;
    return link ? link.clientPort(port) : port;
  };

  const found = (await Promise.all(destinations.map((d) => d.files.scan(d.dir)))).flat();
  const { counts, problems, verdicts } = verifyDestination(dataset.manifest, found);
  const drops = silentDrops(ran, verdicts);
  const agreed = agreeDrops({
    transfers: batch ? ran.map((r) => batchFileOutcome(r, verdicts.get(r.file))) : ran,
    routeOf: (r) => routes.get(r.file) ?? [],
    hostAt: hostAt(topology),
    sshd: Object.fromEntries(Object.entries(sshd).map(([h, c]) => [h, { count: c.maxstartups_drops, ports: events.flatMap((e) => (e.host === h && e.kind === 'drop' && e.peer ? [clientPort(h, e.peer.port)].filter((p) => p !== undefined) : [])) }])),
    faults: faultRecords,
  });
  const transfers = agreed.transfers;
  transfers.forEach((r, i) => (batch ? input.onTransfer(r) : awaitsSshd(ran[i]!) && input.write(r)));
  const verification: VerificationRecord = { type: 'verification', cell: cellName, repeat, counts, problems, silent_drops: drops };
  const byPath = new Map(dataset.manifest.map((m) => [m.path, m.size]));
  const cellRecord: CellRecord = {
    ...frame.cellRecord({
      // What the in-flight figures are judged against: a tool's own cap counts, not only the scenario's.
      concurrency: Math.min(t.concurrency, tool.maxInFlight ?? Infinity),
      end_ms: end,
      bytes_ok: [...verdicts].filter(([, v]) => v === 'ok').reduce((n, [p]) => n + (byPath.get(p) ?? 0), 0),
      transfers,
      silent_drops: drops.length,
      sshd: seen,
    }),
    drops: agreed.drops,
  };
  return { transfers, verification, cell: cellRecord };
}

/**
 * One login per client and route the cell uses, so a key or host-key problem is a clear error,
 * not 100 % failures. Run only after a repeat that looks like one (see suspectSetup): before the
 * transfers it cost every run a serial handshake (~300 ms).
 */
async function checkLogins(topology: StartedTopology, t: TransferSpec, ssh: string, signal?: AbortSignal): Promise<void> {
  const logins = new Map<string, { client: ClientSide; to: string; via: string[]; external: boolean }>();
  {
    const { to, via } = t;
    for (const client of topology.clients) {
      for (const replica of topology.replicas(to)) {
        const route = client.route(replica, via);
        logins.set([client.name, ...route.via, route.to].join('>'), { client, ...route, external: topology.host(replica).external === true });
      }
    }
  }
  await Promise.all(
    [...logins.values()].map(async ({ client, to, via, external }) => {
      // On a site's server the harness runs no command of its own: the SFTP subsystem, ended at once, proves the login.
      const remote = external ? ['-s', to, 'sftp'] : [to, 'true'];
      const local = { file: client.ssh ?? ssh, args: ['-F', client.sshConfigPath, ...(via.length ? ['-J', via.join(',')] : []), '-o', 'ControlPath=none', ...remote], input: '' };
      const cmd = client.exec ? client.exec(local, 30_000) : local;
      const r = await runCommand(cmd.file, cmd.args, { timeoutMs: 30_000, input: cmd.input ?? '', ...(signal ? { signal } : {}) });
      if (r.exitCode !== 0 && !signal?.aborted) {
        const from = client.name === 'machine' ? '' : `from ${client.name}: `;
        throw new HostStartError(`login check ${from}${[...via, to].join(' -> ')} failed (exit ${r.exitCode}): ${r.stderr.trim()}`);
      }
    }),
  );
}

/** Nothing got through, or the classifier saw a key or host-key refusal: maybe the harness's own set-up. */
function suspectSetup(transfers: readonly TransferRecord[]): boolean {
  const failed = transfers.filter((t) => t.status === 'failed');
  return (failed.length > 0 && failed.length === transfers.length) || failed.some((t) => t.classes.includes('auth') || t.classes.includes('host_key'));
}

/** A transfer cell: every file of the dataset moved by the cell's tool, `concurrency` at a time. */
export const transferCell: CellKind = {
  async prepare(ctx) {
    const t = ctx.cell.scenario.transfer!;
    const tool = await createTool(t, ctx.tools);
    // A pulled dataset lives on the remote host, anything else on the client.
    const onHost = tool.usesSsh && t.direction === 'pull' ? t.to : undefined;
    const key = `${ctx.topologyIndex}\u0000${onHost ?? ''}\u0000${ctx.cell.datasetKey}`;
    let dataset = ctx.datasets.get(key);
    if (!dataset) {
      const dplan = planDataset(ctx.cell.scenario.dataset);
      const side = onHost ? ctx.topology.host(onHost) : undefined;
      const dir = join(side ? side.dataRoot : ctx.topology.client.dataRoot, `source-${ctx.datasets.size}`);
      const manifest = await (side ? side.files : ctx.topology.client.files).writeDataset(dir, dplan);
      dataset = { plan: dplan, manifest, source: { ...(onHost ? { host: onHost } : {}), dir } };
      ctx.datasets.set(key, dataset);
    }
    const placed = dataset;
    let loginsChecked = !tool.usesSsh;
    return {
      async run(repeat) {
        const result = await runCellRepeat({ ...ctx, repeat, transfer: t, dataset: placed, tool });
        if (!loginsChecked && !ctx.signal?.aborted && suspectSetup(result.transfers)) {
          await checkLogins(ctx.topology, t, ctx.tools.ssh, ctx.signal);
          loginsChecked = true;
        }
        return result;
      },
    };
  },
};
