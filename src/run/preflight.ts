import { FieldError, ScenarioError, type ScenarioIssue } from '../util/errors.js';
import { findTools, requireTool, type OpenSshTools } from '../ssh/openssh-tools.js';
import { unsupportedKeywords, type OpenSshVersion } from '../ssh/openssh-version.js';
import { checkSshdConfigs, type SshdCheckTarget } from '../ssh/sshd-config-check.js';
import { stableJson, valuePath, type PlanCell, type TopologyGroup } from '../plan/plan.js';
import { type LoadOptions } from '../scenario/load-scenario.js';
import { loadScenario, type LoadedScenario } from '../plan/load-plan.js';
import { type PathKey } from '../spec/object-path.js';
import { createTool } from '../transfers/tool-registry.js';
import { executorPreflight } from '../executors/registry.js';
import { backendKind, hostBackendName } from '../hosts/backends.js';
import type { HostSpec } from '../spec/host.js';
import { hostKeysFrom, readUserFile } from '../ssh/known-hosts.js';

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

/**
 * Each external host's key and pinned host key, read before a folder is made: a missing file or a
 * known_hosts without this server's entry is the scenario's problem, located, not a failed run.
 */
async function externalFileIssues(groups: readonly TopologyGroup[], issueAt: LoadedScenario['issueAt']): Promise<ScenarioIssue[]> {
  const issues = new Map<string, ScenarioIssue>();
  for (const group of groups) {
    for (const [host, spec] of Object.entries(group.hosts)) {
      const x = spec.external;
      if (!x) continue;
      const check = async (field: 'identity' | 'known_hosts', read: () => Promise<unknown>) => {
        const at = `${host}.${field}`;
        if (!issues.has(at)) await read().catch((e: Error) => issues.set(at, issueAt(['hosts', host, 'external', field], e.message)));
      };
      await check('identity', () => readUserFile(x.identity, 'key'));
      await check('known_hosts', () => hostKeysFrom(x.known_hosts, x.address, x.port));
    }
  }
  return [...issues.values()];
}

/** Where a cell's sshd keyword came from: the matrix value that set it, or the host's own sshd block. */
const keywordPath = (loaded: LoadedScenario, cell: PlanCell, host: string, keyword?: string): PathKey[] => valuePath(loaded.axes, cell, ['hosts', host, 'sshd', ...(keyword ? [keyword] : [])]);

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
  const notes = new Set<string>();
  for (const group of plan.groups) {
    // A server xferbench did not start is not configured by it: its options are the model's only.
    const unobserved = (spec: HostSpec) => backendKind(hostBackendName(group.backend, spec)).unobserved;
    for (const [host, spec] of Object.entries(group.hosts)) {
      const why = unobserved(spec);
      if (why && Object.keys(spec.sshd).length > 0) notes.add(`host "${host}": sshd options ${Object.keys(spec.sshd).join(', ')} describe the model only, not applied (${why}); cells that differ only in them run against the same server`);
    }
    if (Object.values(group.hosts).every(unobserved)) continue;
    const version = await options.versionOf(group);
    for (const cell of group.cells) {
      for (const [host, spec] of Object.entries(cell.scenario.hosts)) {
        if (unobserved(spec)) continue;
        const key = stableJson({ host, options: spec.sshd, version: version.text });
        if (!targets.has(key)) targets.set(key, { host, options: spec.sshd, version, path: (k) => keywordPath(loaded, cell, host, k) });
      }
    }
  }
  const issues = await sshdIssues([...targets.values()], tools, loaded.issueAt, options.signal);
  issues.push(...(await externalFileIssues(plan.groups, loaded.issueAt)));
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
  // Each executor's own checks (Slurm on this machine, the nodes of an existing cluster).
  issues.push(...(await executorPreflight(plan.cells, loaded.issueAt)));
  if (issues.length > 0) throw new ScenarioError(loaded.file, issues);
  return [...notes, ...(tools.sshd ? [] : ['sshd -t was not run: no sshd on this machine (the hosts check their configuration when they start)'])];
}
