import { planDataset } from '../dataset/dataset.js';
import { backendKind, hostBackendName } from '../hosts/backends.js';
import { filesPerInvocation, parseStrategy, stageStrategy, type Strategy } from '../pipeline/pipeline-spec.js';
import { EXTERNAL_CAPS } from '../spec/external-host.js';
import type { FieldIssue } from '../spec/fields.js';
import type { PathKey } from '../spec/object-path.js';
import type { MatrixAxis } from '../scenario/load-scenario.js';
import { valuePath, type Plan, type PlanCell } from './plan.js';
import { executorKindOf } from '../executors/registry.js';

/** What a run aims at one external host over all its cells and repeats, from the plan alone. */
export interface ExternalLoad {
  host: string;
  /** `user@address:port`. */
  server: string;
  /** The key that logs in there and the file its host key is pinned in: what the user vouches for with --external. */
  credentials: { identity: string; known_hosts: string };
  /** Whether files go to or come from it, or it only passes connections on. */
  roles: ('destination' | 'source' | 'jump')[];
  /** Most transfers (or a stage's invocations) in flight through it at once, in any cell. */
  concurrency: number;
  /** Transfers (or invocations) through it, every attempt counted: each a connection, or a session on a master. */
  starts: number;
  /** Bytes written to or read from its run folder (a jump host's pass through it). */
  bytes: number;
}

/** One cell's routes, each with what it moves: the far end, its jump hosts, how many at once, attempts and bytes. */
function cellRoutes(cell: PlanCell): { end: string; via: string[]; role: 'destination' | 'source'; concurrency: number; concurrencyPath: PathKey[]; starts: number; bytes: number }[] {
  const s = cell.scenario;
  const data = planDataset(s.dataset);
  const t = s.transfer;
  if (t) {
    // A user's command with unit: batch is one invocation for all the files.
    const invocations = t.unit === 'batch' ? 1 : data.entries.length;
    return [{ end: t.to, via: t.via, role: t.direction === 'push' ? 'destination' : 'source', concurrency: Math.min(t.concurrency, invocations), concurrencyPath: ['transfer', 'concurrency'], starts: invocations * (t.retries + 1), bytes: data.totalBytes }];
  }
  const p = s.pipeline!;
  return (['stage_in', 'stage_out'] as const).flatMap((which) => {
    const stage = p[which];
    if (!stage) return [];
    const perRank = Math.ceil(data.entries.length / p.ranks);
    const invocations = p.ranks * Math.ceil(perRank / filesPerInvocation(parseStrategy(stageStrategy(p, stage)) as Strategy, perRank));
    const end = which === 'stage_in' ? p.stage_in!.from : p.stage_out!.to;
    return [{ end, via: stage.via, role: which === 'stage_in' ? 'source' : 'destination', concurrency: Math.min(stage.concurrency ?? p.ranks, p.ranks), concurrencyPath: ['pipeline', which, ...(stage.concurrency ? ['concurrency'] : [])] as PathKey[], starts: invocations * (stage.retries + 1), bytes: data.totalBytes }];
  });
}

const isExternal = (cell: PlanCell, host: string) => backendKind(hostBackendName(cell.scenario.backend, cell.scenario.hosts[host])).external === true;

/** Every external host of the plan and the load the run aims at it. */
export function externalLoad(plan: Plan): ExternalLoad[] {
  const load = new Map<string, ExternalLoad>();
  for (const cell of plan.cells) {
    for (const r of cellRoutes(cell)) {
      for (const host of [r.end, ...r.via]) {
        if (!isExternal(cell, host)) continue;
        const x = cell.scenario.hosts[host]!.external!;
        const l = load.get(host) ?? { host, server: `${x.user}@${x.address}:${x.port}`, credentials: { identity: x.identity, known_hosts: x.known_hosts }, roles: [], concurrency: 0, starts: 0, bytes: 0 };
        const role = host === r.end ? r.role : 'jump';
        if (!l.roles.includes(role)) l.roles.push(role);
        l.concurrency = Math.max(l.concurrency, r.concurrency);
        l.starts += r.starts * plan.repeat;
        l.bytes += r.bytes * plan.repeat;
        load.set(host, l);
      }
    }
  }
  return [...load.values()];
}

/**
 * More transfers at once through an external host than EXTERNAL_CAPS allows, located at the value
 * that set it (a matrix value, or the scenario's field); none with `administer`.
 */
export function externalLoadIssues(plan: Plan, axes: readonly MatrixAxis[], administer: boolean): FieldIssue[] {
  if (administer) return [];
  const seen = new Set<string>();
  const out: FieldIssue[] = [];
  for (const cell of plan.cells) {
    for (const r of cellRoutes(cell)) {
      const hosts = [r.end, ...r.via].filter((h) => isExternal(cell, h));
      if (hosts.length === 0) continue;
      const elsewhere = executorKindOf(cell.scenario.executor)?.launchesElsewhere;
      if (elsewhere && !seen.has('executor')) {
        seen.add('executor');
        out.push({ path: ['executor'], message: `executor: ${cell.scenario.executor} cannot keep the pace of new transfers to external hosts (${EXTERNAL_CAPS.startsPerSecond}/s): ${elsewhere}; add --i-administer-this-host if the server is yours` });
      }
      if (r.concurrency <= EXTERNAL_CAPS.concurrency) continue;
      const path = valuePath(axes, cell, r.concurrencyPath);
      const key = JSON.stringify(path);
      if (seen.has(key)) continue;
      seen.add(key);
      out.push({ path, message: `${r.concurrency} at once through external host ${hosts.map((h) => `"${h}"`).join(', ')} is above ${EXTERNAL_CAPS.concurrency}: a run would aim that at someone's server; lower it, or add --i-administer-this-host if the server is yours` });
    }
  }
  return out;
}

/** What `validate` says of the servers a run would aim load at, and under which caps. */
export function renderExternalLoad(load: readonly ExternalLoad[], administer: boolean): string {
  const mib = (b: number) => `${(b / 2 ** 20).toFixed(b < 2 ** 20 ? 2 : 0)} MiB`;
  return [
    `external hosts (servers xferbench did not start; a run needs --external):`,
    ...load.flatMap((l) => [
      `  ${l.host}: ${l.server}, ${l.roles.join(' and ')}; at most ${l.concurrency} at once, at most ${l.starts} transfer starts, ${mib(l.bytes)}`,
      `    logs in with ${l.credentials.identity}, host key pinned in ${l.credentials.known_hosts}`,
    ]),
    administer
      ? '  --i-administer-this-host: no cap on transfers at once, new ones not paced'
      : `  caps: at most ${EXTERNAL_CAPS.concurrency} at once; new transfers paced to ${EXTERNAL_CAPS.startsPerSecond}/s in bursts of ${EXTERNAL_CAPS.burst} (--i-administer-this-host lifts both)`,
  ].join('\n');
}
