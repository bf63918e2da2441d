import { defineTool } from './tool-factory.js';
import type { TransferJob, TransferTool, TransferCommand } from './transfer-tool.js';

/** The no-network baseline: the same files copied on this machine, to separate disk from ssh. */
export class CpTool implements TransferTool {
  readonly name = 'cp' as const;
  readonly usesSsh = false;

  command(job: TransferJob): TransferCommand {
    if (job.source.host || job.dest.host) throw new Error('cp copies between local paths only');
    return { file: 'cp', args: ['-p', job.source.path, job.dest.path] };
  }
}

export const cpTool = defineTool({ create: async () => new CpTool() });
