import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { SetupError } from '../../util/errors.js';
import { isAlive, processesUsing, signal } from '../../process/process-tree.js';
import { childEnv, runCommand } from '../../process/run-command.js';
import { renderSlurmConf } from './slurm-config.js';

/** The Slurm programs, where they are (Debian: slurmctld, slurmd, slurm-client). */
export interface SlurmPrograms {
  slurmctld: string;
  slurmd: string;
  srun: string;
  sinfo: string;
  squeue: string;
  scancel: string;
  sbatch: string;
  scontrol: string;
}

const SEARCH = ['/usr/sbin', '/usr/bin', '/usr/local/sbin', '/usr/local/bin'];
const PROGRAMS = ['slurmctld', 'slurmd', 'srun', 'sinfo', 'squeue', 'scancel', 'sbatch', 'scontrol'] as const;

/**
 * The Slurm programs in XFERBENCH_SLURM_DIR when set (a site's /opt/slurm/bin), else in the
 * system folders (Debian puts the daemons in /usr/sbin, the commands in /usr/bin).
 */
export async function findSlurm(): Promise<SlurmPrograms | string> {
  const found: Partial<SlurmPrograms> = {};
  const own = process.env.XFERBENCH_SLURM_DIR;
  for (const name of PROGRAMS) {
    for (const dir of own ? [own] : SEARCH) {
      if (await open(join(dir, name), 'r').then(async (h) => (await h.close(), true), () => false)) {
        found[name] = join(dir, name);
        break;
      }
    }
  }
  const missing = PROGRAMS.filter((n) => !found[n]);
  return missing.length === 0 ? (found as SlurmPrograms) : `${missing.join(', ')} not found${own ? ` in XFERBENCH_SLURM_DIR (${own})` : ''}: install Debian's slurmctld, slurmd and slurm-client (npm test's set-up does, as root)`;
}

/** A free TCP port on 127.0.0.1 (closed again; Slurm binds it a moment later). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface StartedSlurmCluster extends AsyncDisposable {
  readonly nodes: readonly string[];
  /** SLURM_CONF for the client commands (srun, sinfo, scancel). */
  readonly env: Readonly<Record<string, string>>;
  readonly programs: SlurmPrograms;
  /** An existing cluster's partition to run in. */
  readonly partition?: string;
  readonly startMs: number;
  stop(): Promise<void>;
}

const READY_MS = 30_000;

/**
 * A private Slurm cluster for a run: slurmctld and one slurmd per node, all on 127.0.0.1 with
 * ports of their own, configuration, state and logs in `dir` (inside the run's state folder, so
 * the daemons name it and a dead run's are reaped like its sshd). Ready once every node is idle.
 * stop() cancels every job first (slurmstepd outlives slurmd), then ends the daemons.
 */
export async function startSlurmCluster(dir: string, options: { nodes: number; cpus: number; licenses?: Readonly<Record<string, number>>; firstJobId?: number; programs: SlurmPrograms; signal?: AbortSignal }): Promise<StartedSlurmCluster> {
  const t0 = performance.now();
  const { programs } = options;
  await mkdir(join(dir, 'state'), { recursive: true, mode: 0o700 });
  await mkdir(join(dir, 'spool'), { recursive: true, mode: 0o700 });
  const ports = await Promise.all(Array.from({ length: options.nodes + 1 }, freePort));
  const nodes = Array.from({ length: options.nodes }, (_, i) => ({ name: `n${i + 1}`, port: ports[i + 1]! }));
  const conf = join(dir, 'slurm.conf');
  await writeFile(conf, renderSlurmConf({ clusterName: 'xferbench', dir, ctldPort: ports[0]!, nodes, cpus: options.cpus, user: userInfo().username, ...(options.licenses ? { licenses: options.licenses } : {}), ...(options.firstJobId ? { firstJobId: options.firstJobId } : {}) }), { mode: 0o644 });
  const env = { SLURM_CONF: conf };
  const children: ChildProcess[] = [];
  const daemon = (file: string, args: string[]) => {
    // A group of their own: a terminal's Ctrl-C reaches the run, which stops jobs before daemons.
    const child = spawn(file, args, { stdio: 'ignore', env: childEnv(env), detached: true });
    child.on('error', () => undefined);
    children.push(child);
  };
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      // Jobs first: their slurmstepd would outlive slurmd.
      await runCommand(programs.scancel, ['--full', '-u', userInfo().username], { env, timeoutMs: 10_000 });
      for (let i = 0; i < 50; i++) {
        const q = await runCommand(programs.squeue, ['-h', '-o', '%i'], { env, timeoutMs: 5_000 });
        if (q.exitCode !== 0 || q.stdout.trim() === '') break;
        await sleep(100);
      }
      // What scancel did not end (an srun whose run was interrupted, a step still winding down):
      // every process that inherited this cluster's SLURM_CONF, daemons aside.
      const daemons = new Set(children.map((c) => c.pid));
      for (const pid of await processesUsing([dir])) if (!daemons.has(pid)) signal(pid, 'SIGKILL');
      for (const c of children.reverse()) if (c.pid && isAlive(c.pid)) signal(c.pid, 'SIGTERM');
      const deadline = Date.now() + 5_000;
      while (Date.now() < deadline && children.some((c) => c.pid && c.exitCode === null && c.signalCode === null)) await sleep(50);
      for (const c of children) if (c.pid && c.exitCode === null && c.signalCode === null) signal(c.pid, 'SIGKILL');
    })());
  try {
    daemon(programs.slurmctld, ['-D', '-f', conf]);
    for (const n of nodes) daemon(programs.slurmd, ['-D', '-N', n.name, '-f', conf]);
    const deadline = Date.now() + READY_MS;
    let last = '';
    for (;;) {
      if (options.signal?.aborted) throw new SetupError('interrupted while the Slurm cluster started');
      const r = await runCommand(programs.sinfo, ['-h', '-N', '-o', '%N %t'], { env, timeoutMs: 5_000 });
      last = `${r.stdout}${r.stderr}`.trim();
      const idle = r.stdout.split('\n').filter((l) => / idle$/.test(l.trim())).length;
      if (idle === nodes.length) break;
      if (Date.now() > deadline) throw new SetupError(`the private Slurm cluster did not come up in ${READY_MS / 1000} s (sinfo: ${last || 'no answer'}; logs in ${dir})`);
      await sleep(200);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  return { nodes: nodes.map((n) => n.name), env, programs, startMs: performance.now() - t0, stop, [Symbol.asyncDispose]: stop };
}

/** Nodes of an existing cluster's partition (the default one without `partition`), or why not. */
export async function partitionNodes(programs: SlurmPrograms, env: Readonly<Record<string, string>>, partition?: string): Promise<string[] | string> {
  const r = await runCommand(programs.sinfo, ['-h', '-N', '-o', '%N', ...(partition ? ['-p', partition] : [])], { env, timeoutMs: 15_000 });
  if (r.exitCode !== 0) return `sinfo failed (exit ${r.exitCode}): ${r.stderr.trim().slice(0, 300)}`;
  return [...new Set(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean))];
}

/**
 * The cluster SLURM_CONF names, used as it is: nothing is started or stopped, and jobs end with
 * their srun. Its nodes must see this run's folders (a shared file system) and reach the hosts.
 */
export async function existingSlurmCluster(programs: SlurmPrograms, partition: string | undefined): Promise<StartedSlurmCluster> {
  const conf = process.env.SLURM_CONF;
  if (!conf) throw new SetupError('slurm: { cluster: existing } uses the cluster SLURM_CONF names; SLURM_CONF is not set');
  const env = { SLURM_CONF: conf };
  const nodes = await partitionNodes(programs, env, partition);
  if (typeof nodes === 'string') throw new SetupError(`slurm: { cluster: existing }: ${nodes}`);
  const stop = async () => undefined;
  return { nodes, env, programs, ...(partition ? { partition } : {}), startMs: 0, stop, [Symbol.asyncDispose]: stop };
}
