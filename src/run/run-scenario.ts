import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { release, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { STAGING_DIR } from '../pipeline/layout.js';
import { setMaxListeners } from 'node:events';
import { stringify } from 'yaml';
import { RunAbortedError, XferbenchError } from '../util/errors.js';
import type { HostBackend } from '../hosts/host.js';
import { backendKind, hostBackendName } from '../hosts/backends.js';
import { perHostBackend } from '../hosts/per-host-backend.js';
import { externalLoad } from '../plan/external-load.js';
import { EXTERNAL_CAPS } from '../spec/external-host.js';
import { findTools, type OpenSshTools } from '../ssh/openssh-tools.js';
import { generateKeyPair, type KeyPair } from '../ssh/ssh-keys.js';
import { cleanLeftovers, describeReaped } from '../hosts/leftovers.js';
import { endProcessesUsing } from '../process/process-tree.js';
import { createStateDir, EXTRA_DIRS_FILE } from '../hosts/state-dir.js';
import { startTopology, type StartedTopology } from '../hosts/topology.js';
import type { Plan, PlanCell, TopologyGroup } from '../plan/plan.js';
import type { LoadedScenario } from '../plan/load-plan.js';
import { JsonlWriter } from '../records/jsonl-writer.js';
import { createReportDir, defaultReportDir, writeReportFile } from '../report/report-dir.js';
import { realFolder } from '../records/report-folder.js';
import type { RunEvent } from '../cells/run-event.js';
import type { Exporter, ReportInput } from '../exporters/exporter.js';
import type { Summary } from '../report/summary.js';
import type { ThresholdResult } from '../report/threshold-check.js';
import { writeDerivedReport } from '../exporters/write-report.js';
import { Launcher } from '../process/launcher.js';
import { findConnector } from '../ssh/connector.js';
import type { PlacedDataset } from '../cells/cell-kind.js';
import { CELL_KINDS, cellKindOf } from '../cells/registry.js';
import { repeatKey, type ResumeState } from './resume.js';
import { setUpExecutors } from '../executors/registry.js';
import type { ExecutorSetup } from '../executors/executor-kind.js';
import { preflight } from './preflight.js';

export type { RunEvent } from '../cells/run-event.js';

export interface RunOptions {
  /** Report folder; default reports/<name>-<timestamp>. */
  outDir?: string;
  signal?: AbortSignal;
  /** Keep the state directory (keys, configs, host data) for inspection. */
  keepState?: boolean;
  onEvent?: (event: RunEvent) => void;
  /** Further outputs once the run's records are complete (png, JUnit, the step summary, your own). */
  exporters?: readonly Exporter[];
  /** The programs and versions, if the caller has already probed them (findTools). */
  tools?: OpenSshTools;
  /** Continue an interrupted run in `outDir` (resume.ts): finished repeats are skipped, records appended. */
  resume?: ResumeState;
  /** Backend factory (default: local sshd processes, or containers for backend: container). */
  backend?: (kind: string, tools: OpenSshTools) => HostBackend;
  /**
   * The run may aim load at the scenario's external hosts (the CLI's --external): without it a
   * scenario naming a site's server is refused, so a shared file cannot aim load by itself.
   */
  external?: boolean;
  /** The user administers the external hosts (--i-administer-this-host): new transfers to them are not paced. */
  administer?: boolean;
}

export interface RunResult {
  reportDir: string;
  plan: Plan;
  summary: Summary;
  thresholds: ThresholdResult[];
  /** 0 when every threshold and pipeline invariant holds, 1 when one fails. */
  exitCode: 0 | 1;
  /** What the exporters got: records, summary, judged thresholds; hand it to more of them. */
  report: ReportInput;
}

function environment(tools: OpenSshTools): Record<string, string> {
  return {
    ssh: tools.sshVersion.text,
    sshd: tools.sshdVersion?.text ?? 'not installed',
    rsync: tools.rsyncVersion ?? 'not installed',
    node: process.version,
    kernel: `${process.platform} ${release()}`,
    user: process.getuid?.() === 0 ? 'root' : 'unprivileged',
  };
}

function checkAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw new RunAbortedError('run interrupted; every host and ssh master it started has been stopped');
}

/** The run's host backends, made once per kind on first use. */
function backendsFor(options: RunOptions, tools: OpenSshTools): (kind: string) => Promise<HostBackend> {
  const backends = new Map<string, Promise<HostBackend>>();
  return (kind) => {
    let b = backends.get(kind);
    if (!b) {
      b = options.backend ? Promise.resolve(options.backend(kind, tools)) : backendKind(kind).create(tools, { onNotice: (message) => options.onEvent?.({ type: 'notice', message }) });
      backends.set(kind, b);
    }
    return b;
  };
}

/** The first records of a run (or of a resumed one): the scenario and plan as run, and the environment. */
async function startRecords(loaded: LoadedScenario, reportDir: string, writer: JsonlWriter, environment: () => Promise<Record<string, string>>, resume?: ResumeState): Promise<void> {
  const { plan } = loaded;
  if (resume) return writer.write({ type: 'run_resume', resumed_at: new Date().toISOString(), completed: resume.completed.size });
  await writeReportFile(reportDir, 'scenario.yaml', stringify(loaded.raw));
  await writeReportFile(reportDir, 'plan.json', plan.cells.map((c) => ({ index: c.index, id: c.id, values: c.values, scenario: c.scenario })));
  writer.write({
    type: 'run_start',
    name: plan.name,
    started_at: new Date().toISOString(),
    scenario: loaded.scenario,
    plan: { cells: plan.cells.map((c) => ({ index: c.index, id: c.id, values: c.values })), repeat: plan.repeat, total_transfers: plan.totalTransfers },
    environment: await environment(),
  });
}

/** Each host's sshd log and configuration, kept in the report's logs/. */
async function saveHostLogs(reportDir: string, topology: StartedTopology, suffix: string): Promise<void> {
  for (const [name, host] of topology.hosts) {
    if (!host.log || host.sshdConfig === undefined) continue;
    // A resumed folder may lack logs/, or have a link planted there: made, or refused.
    await realFolder(reportDir, 'logs');
    await writeReportFile(reportDir, join('logs', `${name}${suffix}.log`), host.log.lines.map((l) => `${l.t.toFixed(1)} ${l.line}`).join('\n') + '\n');
    await writeReportFile(reportDir, join('logs', `${name}${suffix}.sshd_config`), host.sshdConfig);
  }
}

/** What every topology group of a run shares: the run's folders, key, launcher, executors and records. */
interface RunShared {
  plan: Plan;
  tools: OpenSshTools;
  options: RunOptions;
  signal: AbortSignal | undefined;
  reportDir: string;
  stateDir: string;
  controlBase: string;
  clientKey: KeyPair;
  /** The connector's command (ssh/connector.ts). */
  connector: string;
  launcher: Launcher;
  executors: ExecutorSetup;
  datasets: Map<string, PlacedDataset>;
  clock: () => number;
  writer: JsonlWriter;
  backendOf(kind: string): Promise<HostBackend>;
  pending(cell: PlanCell, repeat: number): boolean;
}

/** One topology group: its hosts started, each pending cell prepared and run repeat by repeat, its hosts' logs kept. */
async function runGroup(run: RunShared, group: TopologyGroup, gi: number): Promise<void> {
  const { plan, options, signal, reportDir, clock, writer } = run;
  const anyPending = (cell: PlanCell) => Array.from({ length: plan.repeat }, (_, i) => run.pending(cell, i + 1)).some(Boolean);
  if (!group.cells.some(anyPending)) return;
  const names = new Set([group.backend, ...Object.values(group.hosts).map((h) => hostBackendName(group.backend, h))]);
  const backend = perHostBackend(group.backend, new Map(await Promise.all([...names].map(async (n) => [n, await run.backendOf(n)] as const))));
  const marker = backendKind(group.backend).stateMarker;
  if (marker) await writeFile(join(run.stateDir, marker), '');
  // A pipeline's folders are in the report (to survive for resume and finalize); hosts see them there.
  const staging = group.cells.some((c) => c.scenario.pipeline) ? [join(resolve(reportDir), STAGING_DIR)] : [];
  // A resumed report folder is from elsewhere: staging/ is a folder of its own, never a link out.
  if (staging.length > 0) await realFolder(reportDir, STAGING_DIR);
  await using topology = await startTopology(backend, group.hosts, { stateDir: run.stateDir, clientKey: run.clientKey, clock, ...(signal ? { signal } : {}) }, {
    dirName: `topology-${gi}`,
    hostDirs: staging,
    ...(group.clientHost ? { clientHost: group.clientHost } : {}),
    sharedDirs: [run.controlBase],
    connector: run.connector,
    reach: group.reach,
  });
  // A client container runs the image's ssh, the same release as its sshd.
  const clientVersion = group.clientHost ? await backend.sshdVersion() : run.tools.sshVersion;
  options.onEvent?.({ type: 'topology_started', hosts: [...topology.hosts.keys()], ms: topology.startMs });
  try {
    for (const cell of group.cells) {
      if (!anyPending(cell)) continue;
      const prepared = await CELL_KINDS[cellKindOf(cell.scenario)].prepare({
        cell, topology, tools: run.tools, clientVersion, clock, controlBase: run.controlBase, reportDir, datasets: run.datasets, launcher: run.launcher,
        executor: run.executors.forCell(cell),
        topologyIndex: gi,
        keepData: options.keepState === true,
        earlier: (repeat) => options.resume?.earlier.get(repeatKey(cell.id, repeat)) ?? [],
        clientKeyPath: run.clientKey.privatePath,
        paceExternal: options.administer !== true,
        ...(signal ? { signal } : {}),
        write: (record) => writer.write(record),
        onTransfer: (record) => {
          writer.write(record);
          options.onEvent?.({ type: 'transfer', record });
        },
        showTransfer: (record) => options.onEvent?.({ type: 'transfer', record }),
      });
      for (let repeat = 1; repeat <= plan.repeat; repeat++) {
        checkAborted(signal);
        if (!run.pending(cell, repeat)) continue;
        options.onEvent?.({ type: 'cell_start', cell, repeat, of: plan.repeat });
        const result = await prepared.run(repeat);
        checkAborted(signal);
        writer.write(result.verification);
        writer.write(result.cell);
        options.onEvent?.({ type: 'cell_end', cell, record: result.cell });
      }
    }
  } finally {
    const { resume } = options;
    await saveHostLogs(reportDir, topology, `${plan.groups.length > 1 ? `-topology${gi}` : ''}${resume ? `-resume${resume.resumes + 1}` : ''}`);
  }
}

/** The pipeline: plan → hosts → dataset → transfers → records → verification → summary. */
export async function runScenario(loaded: LoadedScenario, options: RunOptions = {}): Promise<RunResult> {
  // Every transfer of a cell listens on this signal; a private one can take that many listeners.
  const signal = options.signal ? AbortSignal.any([options.signal]) : undefined;
  if (signal) setMaxListeners(0, signal);
  const { plan } = loaded;
  const external = externalLoad(plan);
  if (external.length > 0 && options.external !== true) {
    throw new XferbenchError(`${loaded.file} aims load at servers xferbench did not start (${external.map((l) => `${l.host}: ${l.server}`).join(', ')}); run it with --external if that is what you mean (xferbench validate shows the load)`);
  }
  const tools = options.tools ?? (await findTools());
  const backendOf = backendsFor(options, tools);
  const notes = await preflight(loaded, tools, { versionOf: async (group) => (await backendOf(group.backend)).sshdVersion(), ...(signal ? { signal } : {}) });
  for (const message of notes) options.onEvent?.({ type: 'notice', message });
  checkAborted(signal);
  // A run killed with SIGKILL could not stop its sshd hosts; the next run does, and says so.
  const reaped = await cleanLeftovers();
  if (reaped.dirs > 0) options.onEvent?.({ type: 'notice', message: describeReaped(reaped) });
  options.onEvent?.({ type: 'planned', plan });

  const { resume } = options;
  const reportDir = resume ? resolve(options.outDir!) : await createReportDir(options.outDir ?? defaultReportDir(plan.name));
  using writer = new JsonlWriter(join(reportDir, 'results.jsonl'));
  const t0 = performance.now() - (resume?.clockOffsetMs ?? 0);
  const clock = () => performance.now() - t0;
  await startRecords(loaded, reportDir, writer, async () => ({
    ...environment(tools),
    ...Object.assign({}, ...(await Promise.all(plan.groups.map(async (g) => (await backendOf(g.backend)).describe?.() ?? {})))),
    ...(external.length > 0 ? { external_hosts: external.map((l) => `${l.host}=${l.server}`).join(', '), external_pace: options.administer ? 'none (--i-administer-this-host)' : `${EXTERNAL_CAPS.startsPerSecond}/s, bursts of ${EXTERNAL_CAPS.burst}` } : {}),
  }), resume);

  try {
    await using state = await createStateDir();
    state.keep = options.keepState === true;
    // ControlMaster sockets need short paths (sun_path is ~104 bytes), hence their own tmp dir.
    const controlBase = await mkdtemp(join(tmpdir(), 'xb-'));
    await writeFile(join(state.path, EXTRA_DIRS_FILE), `${controlBase}\n`);
    await using _controlCleanup = {
      [Symbol.asyncDispose]: async () => {
        await endProcessesUsing(controlBase, 1000);
        await rm(controlBase, { recursive: true, force: true });
      },
    };
    // Three set-up programs at once (perl twice, ssh-keygen): each is mostly its own start-up.
    const launching = Launcher.start();
    launching.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
    const [connector, clientKey] = await Promise.all([findConnector(), generateKeyPair(tools.sshKeygen, join(state.path, 'client_ed25519'), 'xferbench-run')]).catch(async (e: unknown) => {
      await (await launching.catch(() => undefined))?.stop();
      throw e;
    });
    await using launcher = await launching;
    await using executors = await setUpExecutors(plan.cells, state.path, { originEpochMs: performance.timeOrigin + t0, ...(resume ? { firstJobId: resume.firstJobId } : {}), ...(signal ? { signal } : {}) });
    if (executors.notice) options.onEvent?.({ type: 'notice', message: executors.notice });
    const run: RunShared = {
      plan, tools, options, signal, reportDir, stateDir: state.path, controlBase, clientKey, connector, launcher, executors, clock, writer, backendOf,
      datasets: new Map(),
      pending: (cell, repeat) => !resume?.completed.has(repeatKey(cell.id, repeat)),
    };
    for (const [gi, group] of plan.groups.entries()) {
      checkAborted(signal);
      await runGroup(run, group, gi);
    }
  } catch (e) {
    writer.write({ type: 'run_end', ended_at: new Date().toISOString(), outcome: signal?.aborted ? 'aborted' : 'error', error: (e as Error).message });
    if (signal?.aborted) throw new RunAbortedError(`run interrupted; every host and ssh master it started was stopped. Partial results: ${reportDir}`);
    throw e;
  }
  writer.write({ type: 'run_end', ended_at: new Date().toISOString(), outcome: 'completed' });

  writer.close();
  const report = await writeDerivedReport(reportDir, { thresholds: loaded.scenario.thresholds, exporters: options.exporters ?? [] });
  const { summary, thresholds } = report;
  // A violated pipeline invariant fails the run as a failed threshold does.
  const held = thresholds.every((t) => t.passed) && (summary.pipeline?.violations.length ?? 0) === 0;
  return { reportDir, plan, summary, thresholds: [...thresholds], exitCode: held ? 0 : 1, report };
}
