import { requireTool } from '../ssh/openssh-tools.js';
import { defineTool } from './tool-factory.js';
import { remoteSpec, type TransferJob, type TransferTool, type TransferCommand } from './transfer-tool.js';

/** scp takes ssh's -F, -J and -o itself; -B never asks for a password. */
export class ScpTool implements TransferTool {
  readonly name = 'scp' as const;
  readonly usesSsh = true;
  constructor(private readonly scp: string) {}

  command(job: TransferJob): TransferCommand {
    return { file: this.scp, args: ['-B', '-p', '-S', job.ssh.ssh, ...job.ssh.options, remoteSpec(job.source), remoteSpec(job.dest)] };
  }
}

export const scpTool = defineTool({ create: async (programs) => new ScpTool(requireTool(programs, 'scp')) });
