import { access, constants } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { runCommand } from '../process/run-command.js';
import { SetupError } from '../util/errors.js';
import { parseOpenSshVersion, type OpenSshVersion } from './openssh-version.js';

/** The external programs a run uses, resolved to absolute paths, with their versions. */
export interface OpenSshTools {
  ssh: string;
  sshKeygen: string;
  sshd?: string;
  rsync?: string;
  scp?: string;
  sftp?: string;
  sshVersion: OpenSshVersion;
  sshdVersion?: OpenSshVersion;
  rsyncVersion?: string;
}

const SBIN = ['/usr/sbin', '/usr/local/sbin', '/sbin'];

const PACKAGE_OF: Record<string, string> = {
  sshd: 'openssh-server',
  ssh: 'openssh-client',
  'ssh-keygen': 'openssh-client',
  scp: 'openssh-client',
  sftp: 'openssh-client',
  rsync: 'rsync',
};

export function installHint(program: string): string {
  const pkg = PACKAGE_OF[program] ?? program;
  return `${program} was not found on PATH or in ${SBIN.join(', ')}. Install it with: apt-get update && apt-get install -y ${pkg}` +
    ' (Debian/Ubuntu; run `npm run setup` as root to do this automatically)';
}

export async function which(program: string): Promise<string | undefined> {
  const dirs = [...(process.env.PATH ?? '').split(delimiter).filter(Boolean), ...SBIN];
  for (const dir of dirs) {
    const candidate = join(dir, program);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

async function versionOf(file: string, args: string[]): Promise<string> {
  const r = await runCommand(file, args, { timeoutMs: 5000 });
  return `${r.stdout}\n${r.stderr}`;
}

export async function findTools(): Promise<OpenSshTools> {
  const [ssh, sshKeygen, sshd, rsync, scp, sftp] = await Promise.all(
    ['ssh', 'ssh-keygen', 'sshd', 'rsync', 'scp', 'sftp'].map(which),
  );
  if (!ssh) throw new SetupError(installHint('ssh'));
  if (!sshKeygen) throw new SetupError(installHint('ssh-keygen'));
  const [sshText, sshdText, rsyncText] = await Promise.all([
    versionOf(ssh, ['-V']),
    // sshd before 9.x has no -V; its usage text still carries the version line.
    sshd ? versionOf(sshd, ['-V']) : undefined,
    rsync ? versionOf(rsync, ['--version']) : undefined,
  ]);
  const sshVersion = parseOpenSshVersion(sshText);
  if (!sshVersion) throw new SetupError(`${ssh} is not OpenSSH (ssh -V did not print an OpenSSH version)`);
  const sshdVersion = sshdText !== undefined ? parseOpenSshVersion(sshdText) ?? sshVersion : undefined;
  const rsyncVersion = rsyncText !== undefined ? /rsync\s+version\s+(\S+)/.exec(rsyncText)?.[1] : undefined;
  return { ssh, sshKeygen, sshd, rsync, scp, sftp, sshVersion, sshdVersion, rsyncVersion };
}

/** Returns the program's path or throws a SetupError that says how to install it. */
export function requireTool(tools: OpenSshTools, program: 'sshd' | 'rsync' | 'scp' | 'sftp'): string {
  const path = tools[program];
  if (!path) throw new SetupError(installHint(program));
  return path;
}
