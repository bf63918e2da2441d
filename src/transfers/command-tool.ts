import { access, constants } from 'node:fs/promises';
import { FieldError } from '../util/errors.js';
import { which } from '../ssh/openssh-tools.js';
import * as z from 'zod';
import { describe } from '../spec/option-values.js';
import { defineTool } from './tool-factory.js';
import { remoteSpec, type TransferCommand, type TransferJob, type TransferTool } from './transfer-tool.js';

export const UNITS = ['per-file', 'batch'] as const;
export type Unit = (typeof UNITS)[number];

const COMMON: Record<string, string> = {
  src_host: 'the source host alias (empty when the source is on the client)',
  dest_host: 'the destination host alias (empty when the destination is on the client)',
  ssh_config: 'the generated ssh_config (ssh -F), with the run key, known_hosts, jump hosts and mux settings',
  ssh: 'a generated ssh that reads that config (also first on PATH as `ssh`)',
  concurrency: "the cell's concurrency",
  via: 'the jump host aliases, comma-separated as ssh -J takes them (empty without; {ssh} already goes through them)',
  host_address: "the remote host's own address, for a tool with its own SSH library (it goes straight there: no jump hosts)",
  host_port: "the remote host's own port",
  user: 'the login user',
  key_file: "the run's private key",
  known_hosts: "the generated known_hosts (the hosts' keys, by address)",
};

/** What a `transfer.command` template may name, per unit; each is replaced inside its own argument only. */
export const PLACEHOLDERS: Record<Unit, Record<string, string>> = {
  'per-file': {
    src: 'the source as rsync and scp write it: PATH, or ALIAS:PATH on a host',
    dest: 'the destination, the same way',
    src_path: 'the source path alone',
    dest_path: 'the destination path alone',
    file: "the file's path relative to the dataset",
    ...COMMON,
  },
  batch: {
    src_dir: "the dataset's folder as rsync writes it: DIR, or ALIAS:DIR on a host",
    dest_dir: 'the destination folder, the same way',
    src_path: "the dataset's folder path alone",
    dest_path: 'the destination folder path alone',
    file_list: "a file listing this invocation's files, one path per line, relative to the folders (rsync --files-from)",
    work_dir: 'an empty folder of its own for the invocation (a tool\'s temp files: fpsync -t)',
    ...COMMON,
  },
};

const PLACEHOLDER = /\{([a-z_]+)\}/g;

/** Problems of a template, by index: unknown placeholders, a program name that is not one. */
export function templateIssues(template: readonly string[], unit: Unit = 'per-file'): { index: number; message: string }[] {
  const out: { index: number; message: string }[] = [];
  const known = PLACEHOLDERS[unit];
  template.forEach((arg, index) => {
    for (const m of arg.matchAll(PLACEHOLDER)) {
      if (!Object.hasOwn(known, m[1]!)) out.push({ index, message: `unknown placeholder {${m[1]}} for unit: ${unit}; known: ${Object.keys(known).map((p) => `{${p}}`).join(', ')}` });
    }
  });
  const program = template[0];
  if (program !== undefined && (program.includes('{') || program.includes('=') || program.startsWith('-'))) {
    out.push({ index: 0, message: 'the first item is the program to run: a name or path, without placeholders, "=" or a leading "-"' });
  }
  return out;
}

/** A PATH inside a client container, where this machine's PATH means nothing. */
const CONTAINER_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The user's own transfer command, one invocation per file, pooled at the cell's concurrency like
 * the built-in tools. The template is an argv array: placeholders are replaced inside each
 * argument and never re-split, and no shell runs unless the template names one. The command
 * runs through `env` with the lane's generated ssh first on PATH, and RSYNC_RSH,
 * GIT_SSH_COMMAND and XFERBENCH_SSH_CONFIG set, so a tool that runs `ssh` reaches the run's
 * hosts with the run's key and known_hosts without being edited.
 */
export class CommandTool implements TransferTool {
  readonly name = 'command' as const;
  readonly usesSsh = true;
  readonly runsSsh = true;

  constructor(
    private readonly env: string,
    private readonly program: string,
    private readonly args: readonly string[],
    private readonly concurrency: number,
  ) {}

  command(job: TransferJob): TransferCommand {
    const { configPath, bin } = job.ssh;
    if (!configPath || !bin) throw new Error('internal: a command transfer needs its lane\'s ssh_config and ssh wrapper');
    const d = job.direct;
    const common = {
      src_host: job.source.host ?? '', dest_host: job.dest.host ?? '', ssh_config: configPath, ssh: `${bin}/ssh`, concurrency: String(this.concurrency), via: (job.ssh.via ?? []).join(','),
      host_address: d?.address ?? '', host_port: d ? String(d.port) : '', user: d?.user ?? '', key_file: d?.privateKeyPath ?? '', known_hosts: d?.knownHostsPath ?? '',
    };
    // A batch job's endpoints are the folders; its files are in the list.
    const values: Record<string, string> = job.batch
      ? { ...common, src_dir: remoteSpec(job.source), dest_dir: remoteSpec(job.dest), src_path: job.source.path, dest_path: job.dest.path, file_list: job.batch.listFile, work_dir: job.batch.workDir }
      : { ...common, src: remoteSpec(job.source), dest: remoteSpec(job.dest), src_path: job.source.path, dest_path: job.dest.path, file: job.entry.path };
    const path = `${bin}:${job.exec ? CONTAINER_PATH : (process.env.PATH ?? CONTAINER_PATH)}`;
    return {
      file: this.env,
      args: [
        `PATH=${path}`,
        `RSYNC_RSH=${bin}/ssh`,
        `GIT_SSH_COMMAND=${bin}/ssh`,
        `XFERBENCH_SSH_CONFIG=${configPath}`,
        this.program,
        ...this.args.map((arg) => arg.replace(PLACEHOLDER, (_, name: string) => (Object.hasOwn(values, name) ? values[name]! : ''))),
      ],
    };
  }
}

export const commandTool = defineTool({
  fields: {
    /**
     * The program and its arguments, one file per invocation. Placeholders such as {src} and
     * {dest} are replaced inside each argument (PLACEHOLDERS above lists them).
     */
    command: z
      .array(z.string().min(1, 'an empty argument'), { error: (i) => `expected a list of arguments, found ${describe(i.input)}` })
      .min(1, 'name at least the program')
      .max(64, 'at most 64 arguments')
      .optional(),
    /** One invocation per file (pooled at concurrency, the default), or one for the cell's files (batch). */
    unit: z.enum(UNITS).optional(),
  },
  check({ transfer: { command, unit } }) {
    if (command === undefined) return [{ path: ['transfer', 'command'], message: 'tool: command needs transfer.command: the program and its arguments, e.g. [my-stage, "{src}", "{dest}"]' }];
    if (!Array.isArray(command) || !command.every((c) => typeof c === 'string')) return [];
    return templateIssues(command, unit === 'batch' ? 'batch' : 'per-file').map((i) => ({ path: ['transfer', 'command', i.index], message: i.message }));
  },
  async create(_programs, transfer) {
    const [program, ...args] = transfer.command ?? [];
    if (!program) throw new FieldError(['transfer', 'command'], 'tool: command needs transfer.command');
    const env = (await which('env')) ?? '/usr/bin/env';
    // A client container has its own programs; only this machine's can be checked here.
    if (transfer.from !== undefined) return new CommandTool(env, program, args, transfer.concurrency);
    const found = program.includes('/') ? await access(program, constants.X_OK).then(() => program, () => undefined) : await which(program);
    if (!found) throw new FieldError(['transfer', 'command', 0], `${JSON.stringify(program)} is not an executable program${program.includes('/') ? '' : ` on PATH (${process.env.PATH ?? ''})`}`);
    return new CommandTool(env, found, args, transfer.concurrency);
  },
});
