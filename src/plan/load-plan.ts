import { parseScenarioText, readScenario, type LoadOptions, type ParsedScenario } from '../scenario/load-scenario.js';
import { buildPlan, type Plan } from './plan.js';

/** A scenario read, validated and planned: every cell checked as a whole scenario. */
export interface LoadedScenario extends ParsedScenario {
  plan: Plan;
}

/** Plans a parsed scenario; a combination of matrix values that is wrong is refused like any other problem, located in the file. */
export function planned(parsed: ParsedScenario): LoadedScenario {
  const { plan, issues } = buildPlan(parsed);
  if (issues.length > 0) parsed.reject(issues);
  return { ...parsed, plan };
}

/** The scenario in `text` (named `file` in messages), planned. */
export const parseScenario = (text: string, file: string, options: LoadOptions | readonly string[] = {}): LoadedScenario => planned(parseScenarioText(text, file, options));

/** The scenario file, read with its size capped, validated and planned. */
export const loadScenario = async (file: string, options: LoadOptions | readonly string[] = {}): Promise<LoadedScenario> => planned(await readScenario(file, options));
