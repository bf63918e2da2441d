import type { FailureClass } from '../records/transfer-record.js';
import type { DatasetEntry } from '../dataset/dataset.js';
import type { CommandWrapper } from '../hosts/host.js';
import type { Ssh2Target } from '../ssh/ssh2-connect.js';
import type { LaunchResult } from '../process/launcher.js';

/** Where an in-process client (or a tool with its own SSH library) connects, and the known_hosts holding the host's keys. */
export interface DirectEndpoint extends Ssh2Target {
  knownHostsPath: string;
}

/** One side of a transfer: a path on the client (no host) or on a named host. */
export interface Endpoint {
  host?: string;
  path: string;
}

/** How ssh is invoked for a cell: the program and its options before the destination. */
export interface SshInvocation {
  ssh: string;
  /** `-F` and the lane's ssh_config (ssh-invocation.ts). */
  options: string[];
  /** The lane's ssh_config itself, and the folder holding an `ssh` that reads it (tools that run ssh themselves). */
  configPath?: string;
  bin?: string;
  /** The jump host aliases on the way (already in the config as ProxyJump). */
  via?: readonly string[];
}

export interface TransferJob {
  entry: DatasetEntry;
  source: Endpoint;
  dest: Endpoint;
  ssh: SshInvocation;
  /** Runs the command inside a client container instead of on this machine. */
  exec?: CommandWrapper;
  /** Where an in-process tool (ssh2-sftp) connects; absent for command-line tools. */
  direct?: DirectEndpoint;
  /** One invocation for many files (tool: command, unit: batch): source and dest are their folders. */
  batch?: { id: string; entries: readonly DatasetEntry[]; listFile: string; workDir: string };
}

export interface TransferCommand {
  file: string;
  args: string[];
  /** Standard input (sftp batch commands). */
  input?: string;
}

/** Turns a job into the command line of one tool; pure, so every tool's command is unit-tested. */
export interface TransferTool {
  /** Its name in TOOL_REGISTRY. */
  readonly name: string;
  /** True for tools that go over ssh (all but the cp baseline). */
  readonly usesSsh: boolean;
  /** The tool runs `ssh` itself: each lane gets an `ssh` that reads its config (SshInvocation.bin). */
  readonly runsSsh?: boolean;
  command(job: TransferJob): TransferCommand;
  /** A tool that runs in this process (a library client) does the job itself instead of a command. */
  run?(job: TransferJob, options: { timeoutMs: number; signal?: AbortSignal }): Promise<LaunchResult>;
  /** Ends what the tool opened for one cell repeat (an in-process client's connections). */
  close?(): Promise<void>;
  /** The most transfers the tool itself can run at once, when it caps them below any concurrency (ssh2-sftp: connections × channels). */
  readonly maxInFlight?: number;
  /** What the tool's exit code says when none of its messages does (rsync's documented codes). */
  readonly exitClasses?: Readonly<Partial<Record<number, FailureClass>>>;
}

export const remoteSpec = (e: Endpoint): string => (e.host ? `${e.host}:${e.path}` : e.path);
