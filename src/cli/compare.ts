import { InvalidArgumentError } from 'commander';
import { print, type CliCommand } from './shared.js';
import { XferbenchError } from '../util/errors.js';

const fraction = (value: string) => {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError('expected a number >= 0, e.g. 0.05');
  return n;
};

/** `compare`: two runs cell by cell; exit 1 on a regression. */
export const compareCommand: CliCommand = (program) => {
  program
    .command('compare')
    .description('compare two runs of a scenario cell by cell; exit 1 on a regression beyond the tolerances')
    .argument('<base>', 'report folder of the baseline run')
    .argument('<new>', 'report folder of the run to judge')
    .option('--failure-tolerance <pp>', 'loss- and failure-rate change (absolute, 0.02 = 2 points) that still counts as noise', fraction, 0.02)
    .option('--tolerance <fraction>', 'relative throughput / p95 change that still counts as noise', fraction, 0.1)
    .option('--json', 'print the comparison as JSON')
    .action(async (base: string, next: string, opts: { failureTolerance: number; tolerance: number; json?: boolean }) => {
      const [{ buildSummary }, { readResults }, { compareSummaries, renderComparison }] = await Promise.all([import('../report/summary.js'), import('../report/report-dir.js'), import('../report/compare-runs.js')]);
      const load = async (dir: string) => {
        try {
          return buildSummary(await readResults(dir));
        } catch (e) {
          throw new XferbenchError(`cannot read ${dir}/results.jsonl: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
        }
      };
      const rows = compareSummaries(await load(base), await load(next), { failureRate: opts.failureTolerance, relative: opts.tolerance });
      print(opts.json ? JSON.stringify(rows, null, 2) : renderComparison(rows));
      process.exitCode = rows.some((r) => r.verdict === 'regression') ? 1 : 0;
    });
};
