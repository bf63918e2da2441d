import { it } from 'vitest';
import assert from 'node:assert/strict';
import { findSlurm, type SlurmPrograms } from '../../src/executors/slurm/slurm-cluster.js';
import { processesMentioning } from './harness.js';

/**
 * Slurm's programs, or why the file's suite is skipped. Under CI as root the set-up installs
 * Slurm, so a missing one is a failure there (a test that fails), not a skip.
 */
export async function slurmOrSkip(): Promise<{ slurm: SlurmPrograms | undefined; skip: string | undefined }> {
  const found = await findSlurm();
  if (typeof found !== 'string') return { slurm: found, skip: undefined };
  const skip = `no Slurm: ${found}`;
  if (process.env.CI === 'true' && process.getuid?.() === 0) it('Slurm is installed under CI as root', () => assert.fail(skip));
  return { slurm: undefined, skip };
}

/** Slurm daemons and job steps still running (none may outlive a run). */
export const slurmDaemons = () => processesMentioning(['slurmctld', 'slurmd', 'slurmstepd']);
