import { parseScenarioText, readScenario, type LoadOptions, type ParsedScenario } from '../scenario/load-scenario.js';
import { buildPlan, type Plan } from './plan.js';
import { externalLoadIssues } from './external-load.js';

/** A scenario read, validated and planned: every cell checked as a whole scenario. */
export interface LoadedScenario extends ParsedScenario {
  plan: Plan;
}

/**
 * Plans a parsed scenario; a combination of matrix values that is wrong is refused like any other
 * problem, located in the file, and so is more load on an external host than its caps allow
 * (unless `administer`).
 */
export function planned(parsed: ParsedScenario, administer = false): LoadedScenario {
  const { plan, issues } = buildPlan(parsed);
  if (issues.length === 0) issues.push(...externalLoadIssues(plan, parsed.axes, administer));
  if (issues.length > 0) parsed.reject(issues);
  return { ...parsed, plan };
}

const administers = (options: LoadOptions | readonly string[]) => !Array.isArray(options) && (options as LoadOptions).administer === true;

/** The scenario in `text` (named `file` in messages), planned. */
export const parseScenario = (text: string, file: string, options: LoadOptions | readonly string[] = {}): LoadedScenario => planned(parseScenarioText(text, file, options), administers(options));

/** The scenario file, read with its size capped, validated and planned. */
export const loadScenario = async (file: string, options: LoadOptions | readonly string[] = {}): Promise<LoadedScenario> => planned(await readScenario(file, options), administers(options));
