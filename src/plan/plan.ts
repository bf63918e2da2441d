import type { MatrixAxis } from '../scenario/load-scenario.js';
import { scenarioSchema, type Scenario } from '../scenario/scenario-schema.js';
import { setIn, startsWith, type PathKey } from '../spec/object-path.js';

/** One combination of matrix values, with the scenario as it applies to that combination. */
export interface PlanCell {
  index: number;
  /** Stable identifier, e.g. `concurrency=10,mux=warm` (`default` without a matrix). */
  id: string;
  values: Record<string, unknown>;
  scenario: Scenario;
  /** Cells with the same topology key run on the same started hosts. */
  topologyKey: string;
  /** Cells with the same dataset key reuse one generated dataset. */
  datasetKey: string;
}

export interface TopologyGroup {
  key: string;
  backend: Scenario['backend'];
  hosts: Scenario['hosts'];
  /** With `client: container`: the host whose containers launch the transfers. */
  clientHost?: string;
  /** The jump hosts on the way to each host a transfer or stage reaches (the first route found): xferbench's own session to an external host goes the same way. */
  reach: Record<string, string[]>;
  cells: PlanCell[];
}

/** What a run will do, computed before anything starts (as k6 computes its execution plan). */
export interface Plan {
  name: string;
  repeat: number;
  cells: PlanCell[];
  /** Cells grouped so each topology starts once; order follows the matrix. */
  groups: TopologyGroup[];
  totalTransfers: number;
}

/** A pipeline moves each file once per stage step (stage-out moves its outputs). */
const transfersPerFile = (s: Scenario): number => (s.pipeline ? Number(s.pipeline.stage_in !== undefined) + Number(s.pipeline.stage_out !== undefined) : 1);

/** Canonical JSON: key order does not change identity. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

function cartesian<T>(lists: T[][]): T[][] {
  return lists.reduce<T[][]>((acc, list) => acc.flatMap((prefix) => list.map((v) => [...prefix, v])), [[]]);
}

function cellId(values: Record<string, unknown>): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`);
  return parts.length > 0 ? parts.join(',') : 'default';
}

/** Where a cell's value at `path` was written: the matrix value that set it, or the path itself. */
export function valuePath(axes: readonly MatrixAxis[], cell: PlanCell, path: PathKey[]): PathKey[] {
  for (const axis of axes) {
    if (!startsWith(path, axis.path)) continue;
    const index = axis.values.indexOf(cell.values[axis.key]);
    if (index >= 0) return ['matrix', axis.key, index, ...path.slice(axis.path.length)];
  }
  return path;
}

/** Each far end of a cell's routes (a transfer's `to`, a stage's host) and its jump hosts. */
export function routesOf(s: Scenario): { end: string; via: string[] }[] {
  const p = s.pipeline;
  return [
    ...(s.transfer ? [{ end: s.transfer.to, via: s.transfer.via }] : []),
    ...(p?.stage_in ? [{ end: p.stage_in.from, via: p.stage_in.via }] : []),
    ...(p?.stage_out ? [{ end: p.stage_out.to, via: p.stage_out.via }] : []),
  ];
}

/** The host whose containers launch transfers (`client: container`), if any. */
const clientHostOf = (s: Scenario): string | undefined => (s.client === 'container' ? s.transfer?.from : undefined);

export interface PlanInput {
  scenario: Scenario;
  raw: Record<string, unknown>;
  axes: readonly MatrixAxis[];
}

/**
 * Expands the matrix into cells and validates each as a whole scenario (a combination of values
 * can be wrong where each value alone is fine). Problems are returned, located at the matrix
 * value that caused them where one did; the loader reports them with every other problem.
 */
export function buildPlan(loaded: PlanInput): { plan: Plan; issues: { path: PathKey[]; message: string }[] } {
  const { axes, raw } = loaded;
  const issues: { path: PathKey[]; message: string }[] = [];
  const cells: PlanCell[] = [];
  cartesian(axes.map((a) => a.values)).forEach((combo, index) => {
    let cellRaw: unknown = raw;
    const values: Record<string, unknown> = {};
    combo.forEach((value, i) => {
      const axis = axes[i]!;
      values[axis.key] = value;
      cellRaw = setIn(cellRaw, axis.path, value);
    });
    const parsed = scenarioSchema.safeParse(cellRaw);
    if (!parsed.success) {
      for (const issue of parsed.error.issues) {
        const path = issue.path as PathKey[];
        const axis = axes.findIndex((a) => startsWith(path, a.path));
        issues.push(
          axis >= 0
            ? { path: ['matrix', axes[axis]!.key, axes[axis]!.values.indexOf(combo[axis]), ...path.slice(axes[axis]!.path.length)], message: issue.message }
            : { path, message: `${issue.message} (in matrix cell ${cellId(values)})` },
        );
      }
      return;
    }
    const scenario = parsed.data;
    const clientHost = clientHostOf(scenario);
    cells.push({
      index,
      id: cellId(values),
      values,
      scenario,
      // Client containers get the client's folders mounted, so which host that is shapes the topology.
      topologyKey: stableJson({ backend: scenario.backend, hosts: scenario.hosts, clientHost: clientHost ?? null }),
      datasetKey: stableJson(scenario.dataset),
    });
  });

  const groups = new Map<string, TopologyGroup>();
  for (const cell of cells) {
    const group = groups.get(cell.topologyKey) ?? {
      key: cell.topologyKey,
      backend: cell.scenario.backend,
      hosts: cell.scenario.hosts,
      ...(clientHostOf(cell.scenario) ? { clientHost: clientHostOf(cell.scenario)! } : {}),
      reach: {},
      cells: [],
    };
    for (const r of routesOf(cell.scenario)) group.reach[r.end] ??= r.via;
    group.cells.push(cell);
    groups.set(cell.topologyKey, group);
  }
  const repeat = loaded.scenario.repeat;
  const plan = {
    name: loaded.scenario.name,
    repeat,
    cells,
    groups: [...groups.values()],
    totalTransfers: cells.reduce((n, c) => n + c.scenario.dataset.files * transfersPerFile(c.scenario), 0) * repeat,
  };
  return { plan, issues };
}
