import type { SshdOptions } from '../spec/sshd-options.js';
import { atLeast, type OpenSshVersion } from './openssh-version.js';

export interface SshdConfigInput {
  hostName: string;
  listen: { address: string; port: number };
  hostKeyPath: string;
  authorizedKeysPath: string;
  /** The one account allowed to log in: the user running xferbench (or the container's). */
  user: string;
  /** HOME of every session: the host's own folder, so the run user's shell startup files are not read. */
  sessionHome: string;
  version: OpenSshVersion;
  options: SshdOptions;
}

/**
 * Renders a complete sshd_config. Authentication is public-key only for one user, logging is
 * VERBOSE so MaxStartups drops are visible, and on sshd >= 9.8 PerSourcePenalties is off unless
 * the scenario sets it (as OpenSSH's own regression tests do), so the harness does not get its
 * own address penalised. Scenario options come last.
 */
export function renderSshdConfig(input: SshdConfigInput): string {
  // Keys are allow-listed keywords and values typed texts (spec/sshd-options.ts): nothing
  // here can add a line or a second argument.
  const scenario = new Map(Object.entries(input.options));
  const defaults: [string, string][] = [
    ['LogLevel', 'VERBOSE'],
    ['UseDNS', 'no'],
    ['X11Forwarding', 'no'],
    ['PermitRootLogin', input.user === 'root' ? 'prohibit-password' : 'no'],
  ];
  if (atLeast(input.version, 9, 8)) defaults.push(['PerSourcePenalties', 'no']);
  // The session shell (bash -c "rsync --server ...") reads $HOME/.bashrc. The run user's belongs to
  // this machine, not to the site a host stands for: root's here (pyenv) cost 120 ms per session,
  // and a lock it left when a session was killed stalled every later login for a minute.
  const home = atLeast(input.version, 8, 7) ? [`SetEnv HOME=${input.sessionHome}`] : [];

  const listen = input.listen.address.includes(':') ? `[${input.listen.address}]:${input.listen.port}` : `${input.listen.address}:${input.listen.port}`;
  const lines = [
    `# sshd_config for xferbench host "${input.hostName}" (generated; ${input.version.text})`,
    `ListenAddress ${listen}`,
    `HostKey ${input.hostKeyPath}`,
    `AuthorizedKeysFile ${input.authorizedKeysPath}`,
    `AllowUsers ${input.user}`,
    'PidFile none',
    'PubkeyAuthentication yes',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM no',
    'Subsystem sftp internal-sftp',
    ...home,
    ...defaults.filter(([k]) => !scenario.has(k)).map(([k, v]) => `${k} ${v}`),
    ...(scenario.size > 0 ? ['# from the scenario'] : []),
    ...[...scenario].map(([k, v]) => `${k} ${v}`),
  ];
  return `${lines.join('\n')}\n`;
}
