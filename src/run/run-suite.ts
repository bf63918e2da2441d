import { mkdir, readdir } from 'node:fs/promises';
import { basename, extname, join, relative, resolve } from 'node:path';
import { RunAbortedError, XferbenchError } from '../util/errors.js';
import { loadScenario } from '../plan/load-plan.js';
import type { Limits } from '../spec/limits.js';
import { writeReportFile } from '../report/report-dir.js';
import { renderSuiteIndex, type SuiteEntry } from '../report/suite-index.js';
import { runScenario, type RunOptions } from './run-scenario.js';

export interface SuiteResult {
  entries: SuiteEntry[];
  indexPath: string;
  /** 2 if a scenario could not run, else 1 if a threshold failed, else 0. */
  exitCode: 0 | 1 | 2;
}

export interface SuiteOptions extends Omit<RunOptions, 'outDir'> {
  outDir: string;
  sets?: string[];
  /** Raised size limits (--limit), for every scenario. */
  limits?: Partial<Limits>;
  /** Called before each scenario starts. */
  onScenario?: (file: string, index: number, of: number) => void;
}

/** Runs every scenario file of a folder, one after another, each into its own report folder. */
export async function runSuite(dir: string, options: SuiteOptions): Promise<SuiteResult> {
  const files = (await readdir(dir).catch(() => {
    throw new XferbenchError(`cannot read scenario folder ${dir}`);
  }))
    .filter((f) => ['.yaml', '.yml'].includes(extname(f)))
    .sort();
  if (files.length === 0) throw new XferbenchError(`no scenario files (*.yaml, *.yml) in ${dir}`);
  const out = resolve(options.outDir);
  const entries: SuiteEntry[] = [];
  for (const [i, f] of files.entries()) {
    const file = join(dir, f);
    const name = basename(f, extname(f));
    try {
      options.onScenario?.(file, i, files.length);
      const loaded = await loadScenario(file, { sets: options.sets ?? [], limits: options.limits ?? {}, administer: options.administer === true });
      const result = await runScenario(loaded, { ...options, outDir: join(out, name) });
      const failed = result.thresholds.filter((t) => !t.passed).length;
      entries.push({
        scenario: loaded.scenario.name, file: f, reportDir: relative(out, result.reportDir), exitCode: result.exitCode,
        thresholdsPassed: result.thresholds.length - failed, thresholdsFailed: failed,
        failureRate: result.summary.overall.failure_rate, silentDrops: result.summary.overall.silent_drops,
      });
    } catch (e) {
      if (e instanceof RunAbortedError || !(e instanceof XferbenchError)) throw e;
      entries.push({ scenario: name, file: f, exitCode: 2, thresholdsPassed: 0, thresholdsFailed: 0, error: e.message });
      for (const x of options.exporters ?? []) await x.failed?.(name, e.message);
    }
  }
  // Every scenario may have been refused before making its folder: the index's folder may not exist yet.
  await mkdir(out, { recursive: true });
  await writeReportFile(out, 'index.html', renderSuiteIndex(entries, `xferbench suite: ${dir}`));
  const exitCode = entries.some((e) => e.exitCode === 2) ? 2 : entries.some((e) => e.exitCode === 1) ? 1 : 0;
  return { entries, indexPath: join(out, 'index.html'), exitCode };
}
