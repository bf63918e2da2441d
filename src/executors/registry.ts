import type { PathKey } from '../spec/object-path.js';
import type { ScenarioIssue } from '../util/errors.js';
import type { Executor } from './executor.js';
import type { ExecutorCell, ExecutorKind, ExecutorSetup, ExecutorSetupOptions, RawScenario } from './executor-kind.js';
import type { FieldIssue } from '../spec/fields.js';
import { localKind } from './local.js';
import { slurmKind } from './slurm/slurm-kind.js';

/** Every executor by name: a new one is a folder of its own and a line here. */
export const EXECUTOR_REGISTRY = {
  local: localKind,
  slurm: slurmKind,
} satisfies Record<string, ExecutorKind>;

export type ExecutorName = keyof typeof EXECUTOR_REGISTRY;
export const EXECUTOR_NAMES = Object.keys(EXECUTOR_REGISTRY) as [ExecutorName, ...ExecutorName[]];

export const executorKindOf = (name: unknown): ExecutorKind | undefined => (typeof name === 'string' && Object.hasOwn(EXECUTOR_REGISTRY, name) ? EXECUTOR_REGISTRY[name as ExecutorName] : undefined);

/** Each executor's own section of the scenario, under its name (optional: a section applies with its executor only). */
export const executorSections = (): Record<string, ExecutorKind['section']> =>
  Object.fromEntries(Object.entries(EXECUTOR_REGISTRY).flatMap(([name, kind]: [string, ExecutorKind]) => (kind.section ? [[name, kind.section.optional()]] : [])));

/** The named executor's rules, and any other executor's section given without it. */
export function executorIssues(raw: RawScenario): FieldIssue[] {
  const kind = executorKindOf(raw.executor ?? 'local');
  const out: FieldIssue[] = [...(kind?.check?.(raw) ?? [])];
  if ((raw.transfer as { start_rate?: unknown } | undefined)?.start_rate !== undefined && kind?.launchesElsewhere) {
    out.push({ path: ['transfer', 'start_rate'], message: `executor: ${String(raw.executor)} cannot keep a start rate: ${kind.launchesElsewhere}` });
  }
  for (const [name, kind] of Object.entries(EXECUTOR_REGISTRY) as [string, ExecutorKind][]) {
    if (kind.section && name !== (raw.executor ?? 'local') && raw[name] !== undefined) out.push({ path: [name], message: `${name} settings apply with executor: ${name}` });
  }
  return out;
}

/** Executors with a job queue (what queue faults need). */
export const QUEUE_EXECUTORS = (Object.entries(EXECUTOR_REGISTRY) as [ExecutorName, ExecutorKind][]).filter(([, k]) => k.queue).map(([name]) => name);

/** How a pipeline's steps run under the executor, for `validate`. */
export const stepsNote = (executor: string): string | undefined => executorKindOf(executor)?.stepsNote;

/** The run's cells by executor, in registry order. */
function byExecutor<C extends ExecutorCell>(cells: readonly C[]): [ExecutorKind, C[]][] {
  return (Object.entries(EXECUTOR_REGISTRY) as [string, ExecutorKind][]).map(([name, kind]) => [kind, cells.filter((c) => c.scenario.executor === name)] as [ExecutorKind, C[]]).filter(([, list]) => list.length > 0);
}

/** Every executor's checks on this machine, for the cells that use it. */
export async function executorPreflight(cells: readonly ExecutorCell[], issueAt: (path: readonly PathKey[], message: string) => ScenarioIssue): Promise<ScenarioIssue[]> {
  const out: ScenarioIssue[] = [];
  for (const [kind, list] of byExecutor(cells)) out.push(...((await kind.preflight?.(list, issueAt)) ?? []));
  return out;
}

/** What the run's executors need, started once per run (a Slurm cluster) and stopped with it. */
export async function setUpExecutors(cells: readonly ExecutorCell[], stateDir: string, options: ExecutorSetupOptions): Promise<ExecutorSetup> {
  const started = new Map<string, ExecutorSetup>();
  const stopAll = async () => {
    for (const s of started.values()) await s[Symbol.asyncDispose]();
  };
  try {
    for (const [kind, list] of byExecutor(cells)) started.set(list[0]!.scenario.executor, await kind.setUp(list, stateDir, options));
  } catch (e) {
    await stopAll();
    throw e;
  }
  const notices = [...started.values()].flatMap((s) => (s.notice ? [s.notice] : []));
  return {
    forCell: (c): Executor => {
      const setup = started.get(c.scenario.executor);
      if (!setup) throw new Error(`internal: executor ${c.scenario.executor} was not set up for this run`);
      return setup.forCell(c);
    },
    ...(notices.length > 0 ? { notice: notices.join('; ') } : {}),
    [Symbol.asyncDispose]: stopAll,
  };
}
