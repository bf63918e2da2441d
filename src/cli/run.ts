import type { Command } from 'commander';
import { print, collect, externalOptions, guardSignals, limitOption, type RunFlags, type CliCommand } from './shared.js';

/** What `run` and `resume` print and keep. */
const runOutputs = (command: Command) =>
  externalOptions(command)
    .option('--keep-state', 'keep keys, configs and host data of the run for inspection')
    .option('-q, --quiet', 'no progress output')
    .option('--json', 'print the summary as JSON on stdout instead of the table')
    .option('--junit <file>', 'write JUnit XML: one test case per matrix cell and threshold')
    .option('--png', 'also write charts/*.png (report.html has the charts either way)');

/** `run` and `resume`: the run with progress on stderr, then the table (or JSON), JUnit and the step summary. */
async function runAndReport(loaded: import('../plan/load-plan.js').LoadedScenario, tools: Promise<import('../ssh/openssh-tools.js').OpenSshTools>, opts: Omit<RunFlags, 'set'>, resume?: import('../run/run-scenario.js').RunOptions['resume']): Promise<void> {
  const [{ runScenario }, { createProgress, progressMode }, { exporter }] = await Promise.all([import('../run/run-scenario.js'), import('../report/progress-display.js'), import('../exporters/index.js')]);
  const { signal } = guardSignals();
  const progress = createProgress(progressMode({ quiet: opts.quiet === true || opts.json === true, isTTY: process.stderr.isTTY }));
  // Written after the progress display has let go of the terminal, in this order.
  const outputs = [exporter(opts.json ? 'json' : 'table'), ...(opts.junit ? [exporter('junit', { file: opts.junit })] : []), exporter('step-summary')];
  let result;
  try {
    result = await runScenario(loaded, {
      ...(opts.out ? { outDir: opts.out } : {}),
      ...(resume ? { resume } : {}),
      signal,
      tools: await tools,
      keepState: opts.keepState === true,
      external: opts.external === true,
      administer: opts.iAdministerThisHost === true,
      exporters: opts.png ? [exporter('png')] : [],
      onEvent: (e) => progress.onEvent(e),
    });
  } finally {
    progress.stop();
  }
  for (const o of outputs) await o.write(result.report);
  process.exitCode = result.exitCode;
}

/** `run` and `resume`: a scenario's run, or the rest of an interrupted one, with progress, then the table (or JSON), JUnit and the step summary. */
export const runCommand: CliCommand = (program) => {
  runOutputs(program.command('run').description('start the hosts of a scenario, run its transfer matrix, verify every file and write a report'))
    .argument('<file>', 'scenario YAML file')
    .option('-o, --out <dir>', 'report folder (default reports/<name>-<timestamp>)')
    .option('-s, --set <key=value>', 'override a scenario field, e.g. transfer.mux=warm or matrix.concurrency=[5,10] (repeatable)', collect, [])
    .addOption(limitOption())
    .action(async (file: string, opts: RunFlags) => {
      const { loadChecked } = await import('../run/preflight.js');
      const { loaded, tools } = await loadChecked(file, { sets: opts.set, limits: opts.limit ?? {}, administer: opts.iAdministerThisHost === true });
      await runAndReport(loaded, tools, opts);
    });

  runOutputs(program.command('resume').description('continue an interrupted pipeline run in its report folder: finished steps are not redone, the report covers the whole run'))
    .argument('<dir>', 'report folder of the interrupted run')
    .addOption(limitOption())
    .action(async (dir: string, opts: Omit<RunFlags, 'set' | 'out'>) => {
      const { planResume } = await import('../run/resume.js');
      const { findTools } = await import('../ssh/openssh-tools.js');
      const tools = findTools();
      tools.catch(() => undefined);
      const resume = await planResume(dir, { limits: opts.limit ?? {}, administer: opts.iAdministerThisHost === true });
      if (!resume) {
        print(`${dir}: the run completed; nothing to resume`);
        return;
      }
      await runAndReport(resume.loaded, tools, { ...opts, out: dir }, resume.state);
    });
};
