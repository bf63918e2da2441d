import { print, type CliCommand } from './shared.js';

/** `finalize`: what a pipeline run left, renamed into place or deleted. */
export const finalizeCommand: CliCommand = (program) => {
  program
    .command('finalize')
    .description('finish what a pipeline run left: rename landed temporaries into place with their metadata, delete the rest; idempotent')
    .argument('<dir>', 'a report folder, or any folder holding rank state files')
    .option('--json', 'print what was done per rank as JSON')
    .action(async (dir: string, opts: { json?: boolean }) => {
      const { finalizeReport } = await import('../run/finalize-report.js');
      const result = await finalizeReport(dir);
      print(opts.json ? JSON.stringify(result, null, 2) : result.text);
      process.exitCode = result.exitCode;
    });
};
