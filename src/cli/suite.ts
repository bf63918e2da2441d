import { print, warn, collect, externalOptions, guardSignals, limitOption, type RunFlags, type CliCommand } from './shared.js';

/** `suite`: every scenario of a folder, and an index report. */
export const suiteCommand: CliCommand = (program) => {
  externalOptions(program
    .command('suite'))
    .description('run every scenario in a folder and write an index report linking them')
    .argument('<dir>', 'folder of scenario YAML files')
    .option('-o, --out <dir>', 'suite folder (default reports/suite-<timestamp>)')
    .option('-s, --set <key=value>', 'override a field in every scenario (repeatable)', collect, [])
    .option('-q, --quiet', 'no progress output')
    .option('--junit <file>', 'write JUnit XML: one test suite per scenario')
    .option('--png', 'also write charts/*.png in every report folder')
    .addOption(limitOption())
    .action(async (dir: string, opts: RunFlags) => {
      const [{ runSuite }, { createProgress, progressMode }, { exporter }] = await Promise.all([import('../run/run-suite.js'), import('../report/progress-display.js'), import('../exporters/index.js')]);
      const { signal } = guardSignals();
      const out = opts.out ?? `reports/suite-${new Date().toISOString().replace(/[:]/g, '').replace(/\..*$/, 'Z')}`;
      const mode = progressMode({ quiet: opts.quiet === true, isTTY: process.stderr.isTTY });
      const progress = createProgress(mode);
      let result;
      try {
        result = await runSuite(dir, {
          outDir: out,
          sets: opts.set,
          limits: opts.limit ?? {},
          external: opts.external === true,
          administer: opts.iAdministerThisHost === true,
          signal,
          exporters: [...(opts.png ? [exporter('png')] : []), ...(opts.junit ? [exporter('junit', { file: opts.junit })] : []), exporter('step-summary')],
          onScenario: (file, i, of) => {
            // A bar owns its terminal line; headers go to plain-line logs only.
            if (mode === 'lines') warn(`[${i + 1}/${of}] ${file}`);
          },
          onEvent: (e) => progress.onEvent(e),
        });
      } finally {
        progress.stop();
      }
      for (const e of result.entries) print(`${e.exitCode === 0 ? 'PASS ' : e.exitCode === 1 ? 'FAIL ' : 'ERROR'}  ${e.scenario}  ${e.error ?? `${e.thresholdsPassed} thresholds passed, ${e.thresholdsFailed} failed`}`);
      print(`index: ${result.indexPath}`);
      process.exitCode = result.exitCode;
    });
};
