import type { OpenSshTools } from '../hosts/openssh/openssh-tools.js';
import type { TransferSpec } from '../scenario/scenario-schema.js';
import { commandTool } from './command-tool.js';
import { cpTool } from './cp-tool.js';
import { forwardTool } from './forward-tool.js';
import { rsyncTool } from './rsync-tool.js';
import { scpTool } from './scp-tool.js';
import { sftpTool } from './sftp-tool.js';
import { ssh2SftpTool } from './ssh2-sftp-tool.js';
import type { TransferTool } from './transfer-tool.js';

/** A scenario as written (before validation completes), for a tool's own checks. */
export interface RawScenario {
  client?: unknown;
  backend?: unknown;
  transfer: Record<string, unknown>;
}

export type FieldIssue = { path: (string | number)[]; message: string };

/** How a tool is made for a cell: from the programs found on this machine and the cell's transfer. */
export interface ToolFactory {
  /** Throws a SetupError, or a FieldError naming the field, when what the tool needs is missing. */
  create(programs: OpenSshTools, transfer: TransferSpec): Promise<TransferTool>;
  /** transfer fields only this tool reads: given with another tool they are refused. */
  readonly fields?: readonly string[];
  /** The tool's own rules between fields, on the raw scenario. */
  check?(scenario: RawScenario): FieldIssue[];
}

/** Every transfer tool by name: a new tool is a file of its own and a line here. */
export const TOOL_REGISTRY = {
  rsync: rsyncTool,
  scp: scpTool,
  sftp: sftpTool,
  cp: cpTool,
  command: commandTool,
  'ssh2-sftp': ssh2SftpTool,
  forward: forwardTool,
} satisfies Record<string, ToolFactory>;

export type ToolName = keyof typeof TOOL_REGISTRY;
export const TOOL_NAMES = Object.keys(TOOL_REGISTRY) as [ToolName, ...ToolName[]];

/**
 * Each tool's own fields set with another tool, and the chosen tool's own checks: a field must
 * mean what it says, so one that the running tool would ignore is an error.
 */
export function toolFieldIssues(scenario: RawScenario): FieldIssue[] {
  const tool = typeof scenario.transfer.tool === 'string' && scenario.transfer.tool in TOOL_REGISTRY ? (scenario.transfer.tool as ToolName) : 'rsync';
  const isSet = (v: unknown) => v !== undefined && !(Array.isArray(v) && v.length === 0);
  const out: FieldIssue[] = [];
  for (const [owner, factory] of Object.entries(TOOL_REGISTRY) as [ToolName, ToolFactory][]) {
    if (owner === tool) continue;
    for (const field of factory.fields ?? []) {
      if (isSet(scenario.transfer[field])) out.push({ path: ['transfer', field], message: `${field} applies to tool: ${owner}, not ${tool}` });
    }
  }
  return [...out, ...((TOOL_REGISTRY[tool] as ToolFactory).check?.(scenario) ?? [])];
}

export function createTool(transfer: TransferSpec, programs: OpenSshTools): Promise<TransferTool> {
  return TOOL_REGISTRY[transfer.tool].create(programs, transfer);
}
