import type { DatasetEntry } from '../dataset/dataset.js';
import type { CommandWrapper } from '../hosts/host.js';
import type { Tool } from '../scenario/scenario-schema.js';

/** One side of a transfer: a path on the client (no host) or on a named host. */
export interface Endpoint {
  host?: string;
  path: string;
}

/** How ssh is invoked for a cell: the program and its options before the destination. */
export interface SshInvocation {
  ssh: string;
  /** e.g. `-F cfg -J head -o ControlMaster=no -o ControlPath=none -o ConnectTimeout=10` */
  options: string[];
}

export interface TransferJob {
  entry: DatasetEntry;
  source: Endpoint;
  dest: Endpoint;
  ssh: SshInvocation;
  /** Extra arguments for rsync (scenario `rsync_args`). */
  rsyncArgs: readonly string[];
  /** Runs the command inside a client container instead of on this machine. */
  exec?: CommandWrapper;
}

export interface TransferCommand {
  file: string;
  args: string[];
  /** Standard input (sftp batch commands). */
  input?: string;
}

/** Turns a job into the command line of one tool; pure, so every tool's command is unit-tested. */
export interface TransferTool {
  readonly name: Tool;
  /** True for tools that go over ssh (all but the cp baseline). */
  readonly usesSsh: boolean;
  command(job: TransferJob): TransferCommand;
}

export const remoteSpec = (e: Endpoint): string => (e.host ? `${e.host}:${e.path}` : e.path);
