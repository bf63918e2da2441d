import { packageFile } from '../util/package-root.js';
import { SetupError } from '../util/errors.js';
import type { Connection } from '../records/transfer-record.js';
import { which } from './openssh-tools.js';
import { runCommand } from '../process/run-command.js';

// Shipped in src/, run from there whatever runs this module.
const SCRIPT = packageFile('src', 'ssh', 'connect-fd.pl');

// ssh hands ProxyCommand to a shell and expands %-tokens in it: only plain path characters.
const SHELL_WORD = /^[\w+=:,./-]+$/;

/** `path`, if ssh may put it in a ProxyCommand as it is; otherwise a SetupError saying why. */
function plainPath(path: string): string {
  if (!SHELL_WORD.test(path)) throw new SetupError(`${JSON.stringify(path)}: ssh's ProxyCommand takes no spaces or shell characters in a path; install xferbench (and perl) under a plain path`);
  return path;
}

/**
 * The ProxyCommand prefix every ssh of a run's machine client connects through (connect-fd.pl):
 * `PERL SCRIPT`, to which ssh_config adds `%h %p TIMEOUT ATTEMPTS`. Fails with what to install
 * when perl cannot compile the script (it needs Socket::MsgHdr).
 */
export async function findConnector(): Promise<string> {
  const perl = await which('perl');
  if (!perl) throw new SetupError('perl was not found on PATH. Install it with: apt-get install -y --no-install-recommends perl libsocket-msghdr-perl');
  for (const path of [perl, SCRIPT]) plainPath(path);
  const check = await runCommand(perl, ['-c', SCRIPT], { timeoutMs: 10_000 });
  if (check.exitCode !== 0) {
    throw new SetupError(`perl cannot run xferbench's connector (${SCRIPT}): ${check.stderr.trim().split('\n')[0]}. Install its module with: apt-get install -y --no-install-recommends libsocket-msghdr-perl`);
  }
  return `${perl} ${SCRIPT}`;
}

/**
 * The connector as a client container runs it: the image's perl, which has Socket::MsgHdr
 * (containers/sshd/Containerfile), and this script, which the container sees read-only at the same
 * path (`connectorScript`).
 */
export function containerConnector(): string {
  return `/usr/bin/perl ${plainPath(SCRIPT)}`;
}

/** The connector's script, for a client container to mount. */
export const connectorScript = (): string => SCRIPT;

/**
 * ssh_config lines that make ssh connect through the connector. ssh applies neither ConnectTimeout
 * to a ProxyCommand's connect nor ConnectionAttempts to a ProxyCommand: the connector is given both.
 */
export function connectorLines(connector: string, options: Readonly<Record<string, string>> = {}): string[] {
  const timeout = options.ConnectTimeout ?? '0';
  const attempts = options.ConnectionAttempts ?? '1';
  return [`  ProxyCommand ${connector} %h %p ${timeout} ${attempts}`, '  ProxyUseFdpass yes'];
}

/** `xferbench: connected from [A]:P to [B]:Q`, as the connector prints it (and the ssh2 tool). */
export const connectedLine = (local: { address: string; port: number }, remote: { address: string; port: number }): string =>
  `xferbench: connected from [${local.address}]:${local.port} to [${remote.address}]:${remote.port}\n`;

const CONNECTED = /^xferbench: connected from \[([^\]\n]+)\]:(\d+) to \[([^\]\n]+)\]:(\d+)$/gm;

/** Every connection an attempt's stderr says it opened, in order. */
export function connectionsIn(stderr: string): Connection[] {
  return [...stderr.matchAll(CONNECTED)].map((m) => ({ local: { address: m[1]!, port: Number(m[2]) }, remote: { address: m[3]!, port: Number(m[4]) } }));
}
