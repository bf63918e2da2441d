import { packageFile } from '../../util/package-root.js';
import { hostname } from 'node:os';

/** This package's command line: what a Slurm task (`worker`) or batch job (`step`) runs. */
export const XFERBENCH_CLI = packageFile('dist', 'cli.js');

/** The run's clock in a task or job: milliseconds since the run's zero, given in epoch ms. */
export const runClock = (originEpochMs: number) => () => performance.timeOrigin + performance.now() - originEpochMs;

/** The Slurm node a task or job runs on. */
export const nodeName = () => process.env.SLURMD_NODENAME ?? hostname();
