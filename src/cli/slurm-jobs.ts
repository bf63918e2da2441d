import type { CliCommand } from './shared.js';
import { XferbenchError } from '../util/errors.js';
import type { StepName } from '../records/pipeline-records.js';

/** The hidden entry points a Slurm cluster starts: one task of a fanned-out cell (`worker`), one step of a pipeline rank (`step`). */
export const slurmJobsCommand: CliCommand = (program) => {
  // One Slurm task of a run with executor: slurm (started by srun, not by people).
  program
    .command('worker', { hidden: true })
    .argument('<job-file>')
    .action(async (file: string) => {
      const { runWorker } = await import('../executors/slurm/worker.js');
      await runWorker(file);
    });

  // One step of one pipeline rank, as a Slurm batch job of a run with executor: slurm (started by sbatch).
  program
    .command('step', { hidden: true })
    .argument('<job-file>')
    .argument('<rank>')
    .argument('<step>')
    .argument('[dependency]')
    .action(async (file: string, rank: string, step: string, dependency: string | undefined) => {
      const { STEP_NAMES } = await import('../records/pipeline-records.js');
      if (!/^\d+$/.test(rank) || !(STEP_NAMES as readonly string[]).includes(step)) throw new XferbenchError(`step: bad rank ${JSON.stringify(rank)} or step ${JSON.stringify(step)}`);
      const { runStepJob } = await import('../executors/slurm/step-job.js');
      process.exitCode = await runStepJob(file, Number(rank), step as StepName, dependency);
    });
};
