import type { OpenSshTools } from '../hosts/openssh-tools.js';
import type { TransferSpec } from '../scenario/scenario-schema.js';
import { commandTool } from './command-tool.js';
import { cpTool } from './cp-tool.js';
import { rsyncTool } from './rsync-tool.js';
import { scpTool } from './scp-tool.js';
import { sftpTool } from './sftp-tool.js';
import { ssh2SftpTool } from './ssh2-sftp-tool.js';
import type { TransferTool } from './transfer-tool.js';

/** How a tool is made for a cell: from the programs found on this machine and the cell's transfer. */
export interface ToolFactory {
  /** Throws a SetupError (or ScenarioError) when what the tool needs is missing. */
  create(programs: OpenSshTools, transfer: TransferSpec): Promise<TransferTool>;
}

/** Every transfer tool by name: a new tool is a file of its own and a line here. */
export const TOOL_REGISTRY = {
  rsync: rsyncTool,
  scp: scpTool,
  sftp: sftpTool,
  cp: cpTool,
  command: commandTool,
  'ssh2-sftp': ssh2SftpTool,
} satisfies Record<string, ToolFactory>;

export type ToolName = keyof typeof TOOL_REGISTRY;
export const TOOL_NAMES = Object.keys(TOOL_REGISTRY) as [ToolName, ...ToolName[]];

export function createTool(transfer: TransferSpec, programs: OpenSshTools): Promise<TransferTool> {
  return TOOL_REGISTRY[transfer.tool].create(programs, transfer);
}
