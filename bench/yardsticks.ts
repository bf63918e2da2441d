// Yardsticks of `npm run bench`: what this machine does for everyone, measured at the start of
// the same run as the rows expressed against them. A figure in milliseconds means little on
// another machine or another day (this one's `node -e 0` has taken from 50 to 150 ms); a ratio
// to these does.
import { writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { percentile } from '../src/report/statistics.js';
import { timed, type Measured } from './end-to-end.js';

export interface Yardsticks {
  /** `node -e 0`: Node's own start, wall and CPU. */
  nodeWallMs: number;
  nodeCpuMs: number;
  /** One `cp -p` of 1 KiB in a shell loop: fork, exec and copy, CPU each. */
  cpCpuMs: number;
  /** What a shell's `cmd &` costs the shell itself per launch (fork, reap), CPU. */
  forkCpuMs: number;
}

export const ROUNDS = 11;
const median = (xs: number[]) => percentile(xs, 50)!;

/** Median wall and CPU of `argv` over `rounds` runs (CPU: the process and everything it waited for). */
async function medianOf(argv: string[], rounds = ROUNDS, launcherComm = 'none'): Promise<{ wallMs: number; cpuMs: number }> {
  const runs: Measured[] = [];
  for (let i = 0; i < rounds; i++) runs.push(await timed(argv, launcherComm));
  return { wallMs: median(runs.map((r) => r.wallMs)), cpuMs: median(runs.map((r) => r.cpuMs)) };
}

/**
 * `argv`'s wall time against `node -e 0`'s, side by side: the two alternate, the ratio is taken
 * per pair, then the median. A yardstick measured minutes earlier can be off by a factor of
 * three on this machine (node -e 0 took 199 ms at one bench's start, 60 ms a few minutes later).
 */
export async function againstNodeStart(argv: (round: number) => string[], rounds = ROUNDS, launcherComm = 'none'): Promise<{ ratio: number; wallMs: number; nodeMs: number }> {
  const pairs: { x: number; node: number }[] = [];
  const node = () => timed([process.execPath, '-e', '0'], 'none').then((r) => r.wallMs);
  const x = (i: number) => timed(argv(i), launcherComm).then((r) => r.wallMs);
  for (let i = 0; i < rounds; i++) pairs.push(i % 2 === 0 ? { node: await node(), x: await x(i) } : await x(i).then(async (xm) => ({ x: xm, node: await node() })));
  return { ratio: median(pairs.map((p) => p.x / p.node)), wallMs: median(pairs.map((p) => p.x)), nodeMs: median(pairs.map((p) => p.node)) };
}

export async function measureYardsticks(root: string): Promise<Yardsticks> {
  const dir = join(root, 'yardsticks');
  await mkdir(dir, { recursive: true });
  const node = await medianOf([process.execPath, '-e', '0']);
  await writeFile(join(dir, 'a'), Buffer.alloc(1024, 1));
  const loop = await medianOf(['bash', '-c', `cd ${dir} && for i in $(seq 200); do cp -p a b; done`]);
  // The shell's own schedstat around 500 launches of `true &`: its children are not in it.
  const forks: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { stdout } = await execa('bash', ['-c', 'read a _ < /proc/$$/schedstat; for i in $(seq 500); do /bin/true & done; wait; read b _ < /proc/$$/schedstat; echo $(( (b - a) / 500 ))']);
    forks.push(Number(stdout) / 1e6);
  }
  return { nodeWallMs: node.wallMs, nodeCpuMs: node.cpuMs, cpCpuMs: loop.cpuMs / 200, forkCpuMs: median(forks) };
}

export const describeYardsticks = (y: Yardsticks) =>
  `node -e 0: ${y.nodeWallMs.toFixed(0)} ms wall, ${y.nodeCpuMs.toFixed(0)} ms CPU; one cp -p of 1 KiB: ${y.cpCpuMs.toFixed(2)} ms CPU; a shell's fork per launch: ${y.forkCpuMs.toFixed(3)} ms CPU`;

/** A wall time against Node's start. */
export const againstNode = (y: Yardsticks, ms: number) => `${(ms / y.nodeWallMs).toFixed(2)} × node -e 0`;
/** A CPU time against one cp's. */
export const againstCp = (y: Yardsticks, ms: number) => `${(ms / y.cpCpuMs).toFixed(3)} × one cp`;
