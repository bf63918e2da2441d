import { requireTool } from '../ssh/openssh-tools.js';
import { defineTool } from './tool-factory.js';
import { remoteSpec, type TransferJob, type TransferTool, type TransferCommand } from './transfer-tool.js';

/** rsync splits -e on white space and honours quotes; quote only what needs it. */
export function shellWord(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * rsync's exit codes (rsync(1), EXIT VALUES) where its messages may say nothing: 11 comes without
 * a line when the far receiver exits before its error reaches the client (seen under disk_full).
 */
export const RSYNC_EXIT_CLASSES = { 11: 'io_error', 30: 'timeout', 35: 'timeout' } as const;

export class RsyncTool implements TransferTool {
  readonly name = 'rsync' as const;
  readonly usesSsh = true;
  readonly exitClasses = RSYNC_EXIT_CLASSES;
  constructor(
    private readonly rsync: string,
    /** transfer.rsync_args, allow-listed and canonical (spec/rsync-args.ts). */
    private readonly extra: readonly string[] = [],
  ) {}

  command(job: TransferJob): TransferCommand {
    const rsh = [job.ssh.ssh, ...job.ssh.options].map(shellWord).join(' ');
    // A batch (pipeline strategies batch:K and tree): its folders, and the files listed in a file.
    const list = job.batch ? [`--files-from=${job.batch.listFile}`] : [];
    return { file: this.rsync, args: ['-a', '-e', rsh, ...this.extra, ...list, remoteSpec(job.source), remoteSpec(job.dest)] };
  }
}

export const rsyncTool = defineTool({
  create: async (programs, transfer) => new RsyncTool(requireTool(programs, 'rsync'), transfer.rsync_args),
  reads: ['rsync_args'],
});
