/**
 * slurm.conf of xferbench's private test cluster: one slurmctld and `nodes` slurmd on 127.0.0.1,
 * each on a port of its own, everything under one folder. auth/none and cred/none: no munge, for
 * a cluster that listens on loopback only and lives as long as a run (docs/slurm.md). Never
 * written into a user's cluster.
 */
export interface SlurmConfInput {
  clusterName: string;
  /** The cluster's folder: state, spool, pid and log files. */
  dir: string;
  ctldPort: number;
  nodes: readonly { name: string; port: number }[];
  /** CPUs each node claims (more than the machine has, to run many tasks: config_overrides). */
  cpus: number;
  user: string;
  /** Cluster-wide counts a job takes one of (-L NAME): how many stage jobs run at once over all ranks. */
  licenses?: Readonly<Record<string, number>>;
  /** A resumed run's new cluster numbers its jobs on from the last run's, so ids stay unique in the records. */
  firstJobId?: number;
}

const WORD = /^[\w./-]+$/;
function word(v: string): string {
  if (!WORD.test(v)) throw new Error(`internal: ${JSON.stringify(v)} is not safe in slurm.conf`);
  return v;
}

export function renderSlurmConf(c: SlurmConfInput): string {
  const d = word(c.dir);
  const names = c.nodes.map((n) => word(n.name));
  return [
    '# xferbench private test cluster: loopback only, removed with the run',
    `ClusterName=${word(c.clusterName)}`,
    `SlurmctldHost=localhost(127.0.0.1)`,
    `SlurmctldPort=${c.ctldPort}`,
    `SlurmUser=${word(c.user)}`,
    'AuthType=auth/none',
    'CredType=cred/none',
    'ProctrackType=proctrack/linuxproc',
    'TaskPlugin=task/none',
    'SelectType=select/cons_tres',
    'SelectTypeParameters=CR_CPU',
    'SlurmdParameters=config_overrides',
    'ReturnToService=2',
    'MpiDefault=none',
    'SwitchType=switch/none',
    'JobAcctGatherType=jobacct_gather/none',
    'AccountingStorageType=accounting_storage/none',
    // About a second from a job's end to its dependants' start (the default is minutes of batching).
    'SchedulerParameters=batch_sched_delay=0,sched_min_interval=100000',
    'DependencyParameters=kill_invalid_depend',
    'MessageTimeout=10',
    'SlurmdTimeout=30',
    'InactiveLimit=0',
    'KillWait=2',
    `StateSaveLocation=${d}/state`,
    `SlurmdSpoolDir=${d}/spool/%n`,
    `SlurmctldPidFile=${d}/slurmctld.pid`,
    `SlurmdPidFile=${d}/slurmd-%n.pid`,
    `SlurmctldLogFile=${d}/slurmctld.log`,
    `SlurmdLogFile=${d}/slurmd-%n.log`,
    ...(c.firstJobId ? [`FirstJobId=${Math.trunc(c.firstJobId)}`] : []),
    ...(c.licenses && Object.keys(c.licenses).length > 0 ? [`Licenses=${Object.entries(c.licenses).map(([k, n]) => `${word(k)}:${Math.trunc(n)}`).join(',')}`] : []),
    ...c.nodes.map((n) => `NodeName=${word(n.name)} NodeAddr=127.0.0.1 NodeHostname=localhost Port=${n.port} CPUs=${c.cpus} State=UNKNOWN`),
    `PartitionName=xb Nodes=${names.join(',')} Default=YES MaxTime=INFINITE State=UP OverSubscribe=YES`,
    '',
  ].join('\n');
}
