import { FieldError, ScenarioError, type ScenarioIssue } from '../util/errors.js';
import { findTools, requireTool, type OpenSshTools } from '../hosts/openssh/openssh-tools.js';
import { unsupportedKeywords, type OpenSshVersion } from '../hosts/openssh/openssh-version.js';
import { checkSshdConfigs, type SshdCheckTarget } from '../hosts/openssh/sshd-config-check.js';
import { stableJson, type PlanCell, type TopologyGroup } from '../plan/plan.js';
import { loadScenario, type LoadedScenario, type LoadOptions } from '../scenario/load-scenario.js';
import { startsWith, type PathKey } from '../spec/object-path.js';
import { createTool } from '../transfers/tool-registry.js';

/** Where a cell's sshd keyword came from: the matrix value that set it, or the host's own sshd block. */
/** One sshd configuration to check, and where in the file each of its keywords came from. */
interface Target {
  host: string;
  options: Record<string, string>;
  version: OpenSshVersion;
  path(keyword?: string): PathKey[];
}

/** Keywords this sshd release lacks, then `sshd -t` on the rest; every problem located. */
async function sshdIssues(targets: readonly Target[], tools: OpenSshTools, issueAt: LoadedScenario['issueAt'], signal?: AbortSignal): Promise<ScenarioIssue[]> {
  const issues: ScenarioIssue[] = [];
  const byVersion = new Map<string, { check: SshdCheckTarget; target: Target }[]>();
  for (const t of targets) {
    const unsupported = unsupportedKeywords(Object.keys(t.options), t.version);
    for (const u of unsupported) issues.push(issueAt(t.path(u.key), u.message));
    const options = Object.fromEntries(Object.entries(t.options).filter(([k]) => !unsupported.some((u) => u.key === k)));
    byVersion.set(t.version.text, [...(byVersion.get(t.version.text) ?? []), { check: { host: t.host, options }, target: t }]);
  }
  if (!tools.sshd) return issues;
  for (const list of byVersion.values()) {
    const problems = await checkSshdConfigs(list.map((l) => l.check), { sshd: tools.sshd, version: list[0]!.target.version }, signal);
    for (const p of problems) issues.push(issueAt(list.find((l) => l.check === p.target)!.target.path(p.keyword), p.message));
  }
  return issues;
}

/**
 * Loads a scenario while the tools' versions are probed (child processes, so the two overlap).
 * If the scenario has problems, adds what `sshd -t` finds in the hosts that could be checked, so
 * a bad cipher name comes out together with a bad concurrency.
 */
export async function loadChecked(file: string, options: LoadOptions): Promise<{ loaded: LoadedScenario; tools: Promise<OpenSshTools> }> {
  const probing = findTools();
  probing.catch(() => undefined);
  try {
    return { loaded: await loadScenario(file, options), tools: probing };
  } catch (e) {
    if (!(e instanceof ScenarioError) || !e.checkable || Object.keys(e.checkable.sshd).length === 0) throw e;
    const tools = await probing.catch(() => undefined);
    const version = tools?.sshdVersion;
    if (!tools || !version) throw e;
    const targets = Object.entries(e.checkable.sshd).map(([host, options]) => ({ host, options, version, path: (k?: string) => ['hosts', host, 'sshd', ...(k ? [k] : [])] }));
    throw new ScenarioError(e.file, [...e.issues, ...(await sshdIssues(targets, tools, e.checkable.issueAt))]);
  }
}

/** Where a cell's sshd keyword came from: the matrix value that set it, or the host's own sshd block. */
function keywordPath(loaded: LoadedScenario, cell: PlanCell, host: string, keyword?: string): PathKey[] {
  const path = ['hosts', host, 'sshd', ...(keyword ? [keyword] : [])];
  for (const axis of loaded.axes) {
    if (!keyword || !startsWith(path, axis.path)) continue;
    const index = axis.values.indexOf(cell.values[axis.key]);
    if (index >= 0) return ['matrix', axis.key, index, ...path.slice(axis.path.length)];
  }
  return path;
}

export interface PreflightOptions {
  /** The sshd release a group's hosts run (a container image's may differ from this machine's). */
  versionOf(group: TopologyGroup): Promise<OpenSshVersion>;
  signal?: AbortSignal;
}

/**
 * Everything that can be checked before a process starts or a file is written: the tools each
 * cell needs, keywords the hosts' sshd release lacks, and `sshd -t` on every host configuration
 * of every cell. Returns notes on checks that could not run here; throws every problem at once.
 */
export async function preflight(loaded: LoadedScenario, tools: OpenSshTools, options: PreflightOptions): Promise<string[]> {
  const { plan } = loaded;
  const targets = new Map<string, Target>();
  for (const group of plan.groups) {
    const version = await options.versionOf(group);
    for (const cell of group.cells) {
      for (const [host, spec] of Object.entries(cell.scenario.hosts)) {
        const key = stableJson({ host, options: spec.sshd, version: version.text });
        if (!targets.has(key)) targets.set(key, { host, options: spec.sshd, version, path: (k) => keywordPath(loaded, cell, host, k) });
      }
    }
  }
  const issues = await sshdIssues([...targets.values()], tools, loaded.issueAt, options.signal);
  // Each cell's tool, made once here so a program that is missing stops the run before it starts.
  for (const cell of plan.cells) {
    try {
      if (cell.scenario.transfer) await createTool(cell.scenario.transfer, tools);
      else requireTool(tools, 'rsync');
    } catch (e) {
      if (!(e instanceof FieldError)) throw e;
      issues.push(loaded.issueAt(e.path, e.message));
    }
  }
  // executor: slurm needs Slurm on this machine: said before anything starts.
  const slurmCells = plan.cells.filter((c) => c.scenario.executor === 'slurm');
  if (slurmCells.length > 0) {
    const { findSlurm, partitionNodes } = await import('../executors/slurm/slurm-cluster.js');
    const slurm = await findSlurm();
    const wanted = slurmCells[0]!.scenario.slurm;
    // A run starts (or uses) one cluster.
    if (slurmCells.some((c) => (c.scenario.slurm?.cluster ?? 'private') !== (wanted?.cluster ?? 'private') || c.scenario.slurm?.partition !== wanted?.partition)) {
      issues.push(loaded.issueAt(['slurm'], 'slurm.cluster and slurm.partition name the run\'s one cluster: they cannot vary across the matrix'));
    }
    if (typeof slurm === 'string') issues.push(loaded.issueAt(['executor'], `executor: slurm: ${slurm}`));
    else if (wanted?.cluster === 'existing') {
      // An existing cluster must have the nodes asked for, said before anything starts.
      const conf = process.env.SLURM_CONF;
      const nodes = conf ? await partitionNodes(slurm, { SLURM_CONF: conf }, wanted.partition) : 'SLURM_CONF is not set: it names the existing cluster';
      const most = Math.max(...slurmCells.map((c) => c.scenario.slurm?.nodes ?? 3));
      if (typeof nodes === 'string') issues.push(loaded.issueAt(['slurm', 'cluster'], nodes));
      else if (most > nodes.length) issues.push(loaded.issueAt(['slurm', 'nodes'], `${most} nodes asked for; the cluster${wanted.partition ? `'s partition ${wanted.partition}` : ''} has ${nodes.length}`));
    }
    // A pipeline stage's concurrency is a license count of the private cluster: one per run.
    for (const which of ['stage_in', 'stage_out'] as const) {
      const counts = new Set(slurmCells.map((c) => c.scenario.pipeline?.[which]?.concurrency));
      if (counts.size === 1 && counts.has(undefined)) continue;
      if (wanted?.cluster === 'existing') issues.push(loaded.issueAt(['pipeline', which, 'concurrency'], 'with slurm: { cluster: existing } the site\'s own limits bound staging jobs; concurrency is enforced (as licenses) on the private cluster only'));
      else if (counts.size > 1) issues.push(loaded.issueAt(['pipeline', which, 'concurrency'], 'with executor: slurm a stage\'s concurrency is the private cluster\'s license count: it cannot vary across the matrix'));
    }
  }
  if (issues.length > 0) throw new ScenarioError(loaded.file, issues);
  return tools.sshd ? [] : ['sshd -t was not run: no sshd on this machine (the hosts check their configuration when they start)'];
}
