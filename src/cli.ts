#!/usr/bin/env node
import { Command } from 'commander';
import { XferbenchError } from './util/errors.js';
import { runEndTasks } from './util/end-tasks.js';
import { adviseCommand } from './cli/advise.js';
import { cleanCommand } from './cli/clean.js';
import { compareCommand } from './cli/compare.js';
import { finalizeCommand } from './cli/finalize.js';
import { imageCommand } from './cli/image.js';
import { initCommand } from './cli/init.js';
import { probeCommand } from './cli/probe.js';
import { reportCommand } from './cli/report.js';
import { runCommand } from './cli/run.js';
import { schemaCommand } from './cli/schema.js';
import { dropOutputOnClosedPipe, endGuard, warn, type CliCommand } from './cli/shared.js';
import { slurmJobsCommand } from './cli/slurm-jobs.js';
import { suiteCommand } from './cli/suite.js';
import { validateCommand } from './cli/validate.js';

/** Every command, in the order `--help` lists them: a new one is a file in cli/ and a line here. */
const COMMANDS: readonly CliCommand[] = [runCommand, slurmJobsCommand, finalizeCommand, suiteCommand, reportCommand, compareCommand, validateCommand, cleanCommand, schemaCommand, initCommand, probeCommand, adviseCommand, imageCommand];

for (const stream of [process.stdout, process.stderr]) dropOutputOnClosedPipe(stream);

const program = new Command()
  .name('xferbench')
  .description('Concurrent file transfers over SSH against real sshd hosts: failure rates, silent drops, throughput')
  .showHelpAfterError();
for (const add of COMMANDS) add(program);

try {
  await program.parseAsync();
} catch (e) {
  if (e instanceof XferbenchError) {
    warn(`xferbench: ${e.message}`);
    process.exitCode = e.exitCode;
  } else {
    warn(`xferbench: internal error: ${(e as Error).stack ?? String(e)}`);
    process.exitCode = 2;
  }
}
await runEndTasks();
endGuard();
