import { count, keywordOptions, oneOf, TRANSPORT_OPTIONS, yesNo, type OptionValue } from './option-values.js';

/**
 * ssh_config keywords `transfer.ssh_options` may set for the destination: timeouts, keep-alives,
 * algorithms, compression, rekeying, QoS. They are written into the per-run ssh_config the
 * transfers read with -F, never onto a command line.
 */
export const SETTABLE_SSH: Record<string, OptionValue> = {
  ConnectTimeout: count(1, 3600),
  ConnectionAttempts: count(1, 100),
  ServerAliveInterval: count(0, 86_400),
  ServerAliveCountMax: count(0, 1000),
  ...TRANSPORT_OPTIONS,
  Compression: yesNo,
  CheckHostIP: yesNo,
  // The failure classifier reads ssh's error lines; QUIET, FATAL and ERROR would hide them.
  LogLevel: oneOf(['INFO', 'VERBOSE', 'DEBUG', 'DEBUG1', 'DEBUG2', 'DEBUG3']),
};

const RUNS = 'runs a command on this machine';
const MANAGED = 'xferbench sets it';

export const REFUSED_SSH: Record<string, string> = {
  LocalCommand: RUNS,
  PermitLocalCommand: `allows LocalCommand, which ${RUNS}`,
  ProxyCommand: `${RUNS}; to go through jump hosts use transfer.via`,
  ProxyJump: 'use transfer.via (hosts named under hosts)',
  ProxyUseFdpass: 'belongs to ProxyCommand; use transfer.via',
  KnownHostsCommand: `${RUNS}; known_hosts is generated per run`,
  RemoteCommand: 'replaces what runs on the host (rsync --server, sftp)',
  Match: 'a Match block can run commands (exec) and changes which options apply',
  Include: 'reads other files of this machine',
  Hostname: `${MANAGED}: the backend assigns the host address`,
  Port: `${MANAGED}: the backend assigns the host port`,
  User: `${MANAGED}: the login user is the one running xferbench`,
  HostKeyAlias: `${MANAGED}: host keys are pinned by address`,
  IdentityFile: `${MANAGED}: a per-run key is generated`,
  IdentitiesOnly: `${MANAGED}: only the per-run key is offered`,
  IdentityAgent: `${MANAGED}: no agent is used`,
  CertificateFile: `${MANAGED}: a per-run key is generated`,
  AddKeysToAgent: `${MANAGED}: no agent is used`,
  PKCS11Provider: 'loads a library into ssh',
  SecurityKeyProvider: 'loads a library into ssh',
  UserKnownHostsFile: `${MANAGED}: a per-run known_hosts is generated`,
  GlobalKnownHostsFile: `${MANAGED}: a per-run known_hosts is generated`,
  StrictHostKeyChecking: `${MANAGED}: host keys are always checked against the generated known_hosts`,
  UpdateHostKeys: `${MANAGED}: the generated known_hosts is never rewritten`,
  VerifyHostKeyDNS: 'asks DNS; the run stays on loopback',
  ControlMaster: 'use transfer.mux',
  ControlPath: 'use transfer.mux',
  ControlPersist: 'use transfer.mux',
  BatchMode: `${MANAGED}: ssh never prompts`,
  PasswordAuthentication: `${MANAGED}: public-key only`,
  KbdInteractiveAuthentication: `${MANAGED}: public-key only`,
  PreferredAuthentications: `${MANAGED}: public-key only`,
  ForwardAgent: 'exposes an agent of this machine',
  ForwardX11: 'opens this machine\'s display',
  ForwardX11Trusted: 'opens this machine\'s display',
  LocalForward: 'opens listening ports',
  RemoteForward: 'opens listening ports on the host',
  DynamicForward: 'opens listening ports',
  GatewayPorts: 'opens listening ports to other addresses',
  Tunnel: 'creates network devices',
  TunnelDevice: 'creates network devices',
  SendEnv: 'sends this machine\'s environment to the host',
  SetEnv: 'sets the environment on the host',
  BindAddress: 'traffic stays on the addresses the backend assigns',
  BindInterface: 'traffic stays on the addresses the backend assigns',
  AddressFamily: `${MANAGED}: the backend chooses the address`,
  CanonicalizeHostname: 'asks DNS; hosts are named in the scenario',
  RequestTTY: 'changes the session the transfer tools expect',
  SessionType: 'changes the session the transfer tools expect',
  StdinNull: 'changes the session the transfer tools expect',
  ExitOnForwardFailure: 'belongs to forwarding, which is refused',
  ClearAllForwardings: 'belongs to forwarding, which is refused',
  EscapeChar: 'belongs to interactive sessions',
};

export const sshOptionsSchema = keywordOptions({ settable: SETTABLE_SSH, refused: REFUSED_SSH, file: 'ssh_config' });
