import { count, keywordOptions, oneOf, pattern, timeSpec, TRANSPORT_OPTIONS, yesNo, type OptionValue } from './option-values.js';

export interface MaxStartups {
  start: number;
  rate: number;
  full: number;
}

/** `n` means `n:100:n` (sshd_config(5)); sshd itself refuses start > full and rate outside 1..100. */
export function parseMaxStartups(value: string | number): MaxStartups | string {
  const text = String(value).trim();
  const parts = text.split(':');
  const nums = parts.map((p) => (/^\d{1,6}$/.test(p) ? Number(p) : NaN));
  if (nums.some(Number.isNaN) || (parts.length !== 1 && parts.length !== 3)) {
    return `must be "N" or "start:rate:full" with whole numbers, got ${JSON.stringify(text.slice(0, 40))}`;
  }
  const [start, rate, full] = parts.length === 1 ? [nums[0]!, 100, nums[0]!] : (nums as [number, number, number]);
  if (start > full) return `"${text}": start (${start}) must not exceed full (${full})`;
  if (rate < 1 || rate > 100) return `"${text}": rate must be between 1 and 100 percent`;
  if (full < 1) return `"${text}": full must be at least 1`;
  return { start, rate, full };
}

const maxStartups: OptionValue = pattern(/^[\d:]{1,20}$/, '"N" or "start:rate:full"').transform((v, ctx) => {
  const r = parseMaxStartups(v);
  if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: `MaxStartups ${r}` });
  return v;
});

const PENALTY = '(crash|authfail|noauth|grace-exceeded|refuseconnection|max|min|max-sources4|max-sources6|overflow|overflow6):[a-z0-9]{1,12}';

/**
 * The sshd_config keywords a scenario may set: the limits under study and what shapes a
 * transfer's connection (algorithms, compression, keep-alives, rekeying, QoS, forwarding for jump
 * hosts). Each has a typed value. Why this list and not more: docs/security.md.
 */
export const SETTABLE_SSHD: Record<string, OptionValue> = {
  MaxStartups: maxStartups,
  MaxSessions: count(0, 100_000),
  MaxAuthTries: count(1, 100),
  LoginGraceTime: timeSpec,
  PerSourceMaxStartups: pattern(/^(none|\d{1,6})$/, 'a whole number or none'),
  PerSourceNetBlockSize: pattern(/^\d{1,2}(:\d{1,3})?$/, '"N" or "N:M" (IPv4 and IPv6 prefix lengths)'),
  PerSourcePenalties: pattern(new RegExp(`^(yes|no|${PENALTY}( ${PENALTY}){0,10})$`), 'yes, no, or penalty:duration pairs such as "crash:90 authfail:5"'),
  PerSourcePenaltyExemptList: pattern(/^[0-9A-Fa-f.:/]{2,43}(,[0-9A-Fa-f.:/]{2,43}){0,31}$/, 'addresses or CIDR ranges separated by commas'),
  ClientAliveInterval: count(0, 86_400),
  ClientAliveCountMax: count(0, 1000),
  ...TRANSPORT_OPTIONS,
  UseDNS: yesNo,
  Compression: oneOf(['yes', 'no', 'delayed']),
  UnusedConnectionTimeout: pattern(/^(none|(\d{1,6}[smhdwSMHDW]?){1,4})$/, 'none or a time such as 5m'),
  ChannelTimeout: pattern(/^[a-z@*.-]{1,40}=\d{1,6}[smhdw]?( [a-z@*.-]{1,40}=\d{1,6}[smhdw]?){0,7}$/, 'type=time pairs such as "session=5m"'),
  AllowTcpForwarding: oneOf(['yes', 'no', 'local', 'remote', 'all']),
  // VERBOSE is what the drop and session counters read; more is allowed, less would blind them.
  LogLevel: oneOf(['VERBOSE', 'DEBUG', 'DEBUG1', 'DEBUG2', 'DEBUG3']),
};

const OWNED = 'xferbench sets it for every host';
const AUTH = 'authentication is public-key only, for the one run user, with a per-run key';

/** Keywords a scenario may never set, with why: the harness owns them or they run or read something. */
export const REFUSED_SSHD: Record<string, string> = {
  ListenAddress: `${OWNED}: hosts listen on loopback or their container network only`,
  Port: `${OWNED}: the backend assigns the port`,
  AddressFamily: `${OWNED}: the backend chooses the address`,
  HostKey: `${OWNED}: a host key is generated per run`,
  HostCertificate: `${OWNED}: a host key is generated per run`,
  HostKeyAgent: 'talks to an agent on this machine',
  AuthorizedKeysFile: `${OWNED}: ${AUTH}`,
  AuthorizedKeysCommand: 'runs a command on the host',
  AuthorizedKeysCommandUser: 'belongs to AuthorizedKeysCommand, which runs a command',
  AuthorizedPrincipalsCommand: 'runs a command on the host',
  AuthorizedPrincipalsCommandUser: 'belongs to AuthorizedPrincipalsCommand, which runs a command',
  AuthorizedPrincipalsFile: `reads a file: ${AUTH}`,
  TrustedUserCAKeys: `reads a file: ${AUTH}`,
  RevokedKeys: 'reads a file of this machine; key revocation is a fault to inject, not a setting',
  AuthenticationMethods: AUTH,
  PubkeyAuthentication: AUTH,
  PasswordAuthentication: AUTH,
  PermitEmptyPasswords: AUTH,
  KbdInteractiveAuthentication: AUTH,
  ChallengeResponseAuthentication: AUTH,
  HostbasedAuthentication: AUTH,
  GSSAPIAuthentication: AUTH,
  KerberosAuthentication: AUTH,
  UsePAM: `${AUTH}; PAM would run the machine's own modules`,
  PermitRootLogin: AUTH,
  AllowUsers: AUTH,
  AllowGroups: AUTH,
  DenyUsers: `${AUTH}; to make logins fail, offer no acceptable key algorithm (PubkeyAcceptedAlgorithms)`,
  DenyGroups: AUTH,
  Match: 'a Match block changes which settings apply and to whom; one scenario host is one sshd configuration',
  Include: 'reads other files of this machine',
  ForceCommand: 'replaces what runs on the host (rsync --server, the sftp subsystem)',
  Subsystem: `${OWNED}: sftp is internal-sftp`,
  ChrootDirectory: 'changes what the host serves; the data folder is set per run',
  Banner: 'sends a file of this machine to every client',
  PidFile: `${OWNED}: the harness tracks the process itself`,
  SyslogFacility: `${OWNED}: logs go to standard error, where the harness counts them`,
  LogVerbose: 'changes which lines the harness reads',
  PermitUserEnvironment: 'lets clients set the environment of commands on the host',
  AcceptEnv: 'lets clients set the environment of commands on the host',
  SetEnv: 'sets the environment of commands on the host',
  PermitUserRC: 'runs ~/.ssh/rc on the host',
  PermitTunnel: 'creates network devices',
  PermitListen: 'opens listening ports',
  PermitOpen: 'opens connections elsewhere; jump hosts use AllowTcpForwarding',
  GatewayPorts: 'opens listening ports to other addresses',
  X11Forwarding: 'opens listening ports',
  AllowAgentForwarding: 'exposes an agent of this machine',
  AllowStreamLocalForwarding: 'creates sockets on the host',
  StreamLocalBindUnlink: 'removes sockets on the host',
  StrictModes: 'the run keeps sshd checking its key file permissions',
  ModuliFile: 'reads a file of this machine',
  SecurityKeyProvider: 'loads a library into sshd',
  RDomain: 'changes the routing domain; hosts stay on loopback',
  SshdSessionPath: 'runs another program',
  SshdAuthPath: 'runs another program',
  VersionAddendum: 'changes the banner the harness and clients read',
  RefuseConnection: 'refuses every connection; inject that as a fault',
};

export const sshdOptionsSchema = keywordOptions({ settable: SETTABLE_SSHD, refused: REFUSED_SSHD, file: 'sshd_config' });

/** Keyword → the text rendered after it; only settable keywords with typed values. */
export type SshdOptions = Record<string, string>;
