import type { OpenSshTools } from '../ssh/openssh-tools.js';
import type { TransferBase } from '../spec/transfer.js';
import type { RawScenario } from './tool-factory.js';
import type { FieldIssue } from '../spec/fields.js';
import { commandTool } from './command-tool.js';
import { cpTool } from './cp-tool.js';
import { forwardTool } from './forward-tool.js';
import { rsyncTool } from './rsync-tool.js';
import { scpTool } from './scp-tool.js';
import { sftpTool } from './sftp-tool.js';
import { ssh2SftpTool } from './ssh2-sftp-tool.js';
import type { ToolFactory } from './tool-factory.js';
import type { TransferTool } from './transfer-tool.js';

/** Every transfer tool by name: a new tool is a file of its own and a line here. */
export const TOOL_REGISTRY = {
  rsync: rsyncTool,
  scp: scpTool,
  sftp: sftpTool,
  cp: cpTool,
  command: commandTool,
  'ssh2-sftp': ssh2SftpTool,
  forward: forwardTool,
};

export type ToolName = keyof typeof TOOL_REGISTRY;
export const TOOL_NAMES = Object.keys(TOOL_REGISTRY) as [ToolName, ...ToolName[]];

const factoryOf = (name: string): ToolFactory | undefined => (Object.hasOwn(TOOL_REGISTRY, name) ? (TOOL_REGISTRY[name as ToolName] as ToolFactory) : undefined);

/** Fields only the tool reads: its own and the shared ones it names. */
const readBy = (factory: ToolFactory): string[] => [...Object.keys(factory.fields ?? {}), ...(factory.reads ?? [])];

/**
 * Each tool's own fields set with another tool, and the chosen tool's own checks: a field must
 * mean what it says, so one that the running tool would ignore is an error.
 */
export function toolFieldIssues(scenario: RawScenario): FieldIssue[] {
  const tool = typeof scenario.transfer.tool === 'string' && factoryOf(scenario.transfer.tool) ? scenario.transfer.tool : 'rsync';
  const isSet = (v: unknown) => v !== undefined && !(Array.isArray(v) && v.length === 0);
  const out: FieldIssue[] = [];
  for (const owner of TOOL_NAMES) {
    if (owner === tool) continue;
    for (const field of readBy(factoryOf(owner)!)) {
      if (isSet(scenario.transfer[field])) out.push({ path: ['transfer', field], message: `${field} applies to tool: ${owner}, not ${tool}` });
    }
  }
  return [...out, ...(factoryOf(tool)!.check?.(scenario) ?? [])];
}

export function createTool(transfer: TransferBase, programs: OpenSshTools): Promise<TransferTool> {
  const factory = factoryOf(transfer.tool);
  if (!factory) throw new Error(`internal: no tool named ${transfer.tool}`);
  return factory.create(programs, transfer);
}
