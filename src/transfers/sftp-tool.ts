import { requireTool } from '../ssh/openssh-tools.js';
import { defineTool } from './tool-factory.js';
import type { TransferJob, TransferTool, TransferCommand } from './transfer-tool.js';

const quoted = (path: string) => `"${path.replace(/(["\\])/g, '\\$1')}"`;

/** sftp in batch mode (-b -): one put or get read from stdin; any failed command fails sftp. */
export class SftpTool implements TransferTool {
  readonly name = 'sftp' as const;
  readonly usesSsh = true;
  constructor(private readonly sftp: string) {}

  command(job: TransferJob): TransferCommand {
    const remote = job.dest.host ?? job.source.host;
    if (!remote || (job.dest.host && job.source.host)) {
      throw new Error('sftp transfers need exactly one remote side');
    }
    const line = job.dest.host
      ? `put -p ${quoted(job.source.path)} ${quoted(job.dest.path)}`
      : `get -p ${quoted(job.source.path)} ${quoted(job.dest.path)}`;
    return { file: this.sftp, args: ['-b', '-', '-S', job.ssh.ssh, ...job.ssh.options, remote], input: `${line}\n` };
  }
}

export const sftpTool = defineTool({ create: async (programs) => new SftpTool(requireTool(programs, 'sftp')) });
