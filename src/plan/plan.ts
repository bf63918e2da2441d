import { ScenarioError, type ScenarioIssue } from '../errors.js';
import type { LoadedScenario } from '../scenario/load-scenario.js';
import { scenarioSchema, type Scenario } from '../scenario/scenario-schema.js';
import { formatPath, setIn } from '../scenario/object-path.js';

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

/** The host whose containers launch transfers (`client: container`), if any. */
const clientHostOf = (s: Scenario): string | undefined => (s.client === 'container' ? s.transfer.from : undefined);

export function buildPlan(loaded: LoadedScenario): Plan {
  const { axes, raw } = loaded;
  const issues: ScenarioIssue[] = [];
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
        issues.push({ path: `matrix cell ${cellId(values)}: ${formatPath(issue.path as (string | number)[])}`, message: issue.message });
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
  if (issues.length > 0) throw new ScenarioError(loaded.file, issues);

  const groups = new Map<string, TopologyGroup>();
  for (const cell of cells) {
    const group = groups.get(cell.topologyKey) ?? {
      key: cell.topologyKey,
      backend: cell.scenario.backend,
      hosts: cell.scenario.hosts,
      ...(clientHostOf(cell.scenario) ? { clientHost: clientHostOf(cell.scenario)! } : {}),
      cells: [],
    };
    group.cells.push(cell);
    groups.set(cell.topologyKey, group);
  }
  const repeat = loaded.scenario.repeat;
  return {
    name: loaded.scenario.name,
    repeat,
    cells,
    groups: [...groups.values()],
    totalTransfers: cells.reduce((n, c) => n + c.scenario.dataset.files, 0) * repeat,
  };
}
