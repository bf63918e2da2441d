import { stringify } from 'yaml';
import { loadScenario, parseScenario, type LoadedScenario } from './plan/load-plan.js';
import type { Limits } from './spec/limits.js';
import { runScenario as runLoaded, type RunOptions, type RunResult } from './run/run-scenario.js';

export interface ScenarioRunOptions extends Omit<RunOptions, 'outDir'> {
  /** `--set` overrides, e.g. ['transfer.mux=warm', 'matrix.concurrency=[5,10]']. */
  set?: readonly string[];
  /** Report folder (new or empty); default reports/<name>-<timestamp>. */
  outDir?: string;
  /** Raised size limits, as `--limit` (docs/security.md). */
  limits?: Partial<Limits>;
}

/**
 * Runs a scenario as `xferbench run` does and returns its typed summary, thresholds and report
 * folder. `scenario` is a file path, a scenario object (as it would be written in YAML), or an
 * already loaded scenario. Bad input throws a ScenarioError (every problem, with its path) before
 * anything starts; transfers that fail are data in the summary, not exceptions.
 */
export async function runScenario(scenario: string | LoadedScenario | Record<string, unknown>, options: ScenarioRunOptions = {}): Promise<RunResult> {
  const { set = [], limits = {}, ...rest } = options;
  const loaded =
    typeof scenario === 'string'
      ? await loadScenario(scenario, { sets: set, limits })
      : isLoaded(scenario)
        ? scenario
        : parseScenario(stringify(scenario), '(scenario object)', { sets: set, limits });
  return runLoaded(loaded, rest);
}

function isLoaded(s: LoadedScenario | Record<string, unknown>): s is LoadedScenario {
  return typeof s.file === 'string' && typeof s.scenario === 'object' && s.scenario !== null && 'raw' in s;
}
