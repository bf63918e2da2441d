import type { FailureClass } from '../records/transfer-record.js';
import { atLeast, type OpenSshVersion } from '../ssh/openssh-version.js';

/**
 * Client-side messages of OpenSSH, rsync, scp and sftp, mapped to failure classes. The strings
 * are the real ones (docs/openssh-messages.md); each rule has a unit test on them.
 */
export interface ClassifierRule {
  class: FailureClass;
  pattern: RegExp;
}

export const RULES: readonly ClassifierRule[] = [
  // MaxStartups early drop: sshd closes or resets before sending its banner.
  { class: 'maxstartups_drop', pattern: /kex_exchange_identification: (?:Connection closed by remote host|read: Connection reset by peer)/ },
  { class: 'maxstartups_drop', pattern: /ssh_exchange_identification: / },
  // The ssh2 library (tool: ssh2-sftp): a reset or close before the handshake completed.
  { class: 'maxstartups_drop', pattern: /^ssh2: handshake: (?:read ECONNRESET|Connection lost before handshake)/m },
  // MaxSessions: refused through a mux master, or a channel refused on a plain connection.
  { class: 'maxsessions_refused', pattern: /Session open refused by peer/ },
  { class: 'maxsessions_refused', pattern: /channel \d+: open failed: (?:connect failed: open failed|administratively prohibited: open failed)/ },
  { class: 'maxsessions_refused', pattern: /^ssh2: channel: \(SSH\) Channel open failure: open failed/m },
  // ControlMaster start-up race (or a stale socket): falls back to a direct connection.
  { class: 'mux_race', pattern: /ControlSocket .* already exists, disabling multiplexing/ },
  // No algorithm both ends accept (a site that dropped a cipher or key exchange the clients still ask for).
  { class: 'negotiation', pattern: /Unable to negotiate with \S+ port \d+: no matching [\w -]+ found/ },
  { class: 'host_key', pattern: /Host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED|No \S+ host key is known for/ },
  { class: 'auth', pattern: /Permission denied \((?:publickey|password|keyboard-interactive)[^)]*\)|Too many authentication failures|Received disconnect from .*: ?\d+: Too many authentication failures/ },
  // A dead master's socket (the client then connects on its own): not a refusal by a host.
  { class: 'mux_master_lost', pattern: /Control socket connect\(.*\): (?:Connection refused|No such file or directory)|mux_client_request_session: read from master failed/ },
  { class: 'connection_refused', pattern: /connect to host \S+ port \d+: Connection refused|^(?!Control socket connect).*Connection refused/m },
  // An established connection cut (sshd killed or restarted): after the banner, so not a MaxStartups
  // drop; through a jump host the cut hop's line comes before the outer hop's kex line (unless the
  // cut hop's own kex line precedes it: then the jump host dropped it before its banner).
  {
    class: 'connection_reset',
    pattern: /Connection to \S+ closed by remote host|client_loop: send disconnect: Broken pipe|ssh_dispatch_run_fatal: Connection to \S+ port \d+: Broken pipe|(?<!(?:kex|ssh)_exchange_identification: [^\n]*\n)^Connection (?:reset|closed) by \S+ port \d+\r?\n(?:kex|ssh)_exchange_identification/m,
  },
  { class: 'timeout', pattern: /Connection timed out|Operation timed out|timed out during banner exchange|\[\w+\] io timeout after|timeout in data send\/receive|connection timed out/i },
  { class: 'no_space', pattern: /No space left on device|Disk quota exceeded|\(code 11\).*No space/ },
  // File-level errors reported by the far side; socket errors (Broken pipe) are consequences, not causes.
  {
    class: 'remote_error',
    pattern: /rsync: \[\w+\] (?:mkstemp|rename|open|mkdir|link|change_dir|chdir|recv_generator|send_files)\b[^\n]*failed[^\n]*\((?:2|13|30|21|20)\)|rsync: [^\n]*(?:No such file or directory|Permission denied|Read-only file system) \(\d+\)/,
  },
  { class: 'remote_error', pattern: /^scp: [^\n]*: (?:No such file or directory|Permission denied|Read-only file system|Failure|Is a directory)/m },
  { class: 'remote_error', pattern: /^(?:remote open\(|dest open |Couldn't (?:stat|open|create|write)|File "[^"]*" not found)/m },
];

/**
 * rsync's own words for a connection that ended under it when ssh said nothing (a session cut
 * with no line from ssh, a session whose ssh master was killed): the stream closed, a write to it
 * failed, or ssh exited 255 unexplained. Read only where no rule above explains the failure, as
 * rsync prints the same lines after ssh's own for every other cause.
 */
const CUT_BY_RSYNC =
  /^rsync: connection unexpectedly closed \(\d+ bytes received so far\)|^rsync: \[\w+\] safe_write failed to write \d+ bytes to socket: Broken pipe|^rsync error: unexplained error \(code 255\)/m;

/** Order of precedence when one attempt shows several classes (causes before consequences). */
// A jump host that refused or cut the connection explains the outer hop's kex line after it.
const PRIORITY: readonly FailureClass[] = [
  'host_key', 'auth', 'negotiation', 'connection_refused', 'connection_reset', 'maxstartups_drop', 'maxsessions_refused', 'no_space', 'timeout', 'remote_error', 'io_error', 'mux_race', 'mux_master_lost', 'unknown',
];

// From 9.5 the kex line is logged at VERBOSE; a default client then prints only this.
const BARE_CLOSE = /^Connection (?:closed|reset) by \S+ port \d+\s*$/m;

export interface Classification {
  /** All classes present, in precedence order. */
  classes: FailureClass[];
  /** The class that explains a failure; null on success (even if classes is not empty). */
  primary: FailureClass | null;
}

export interface ClassifyInput {
  stderr: string;
  exitCode: number | null;
  timedOut?: boolean;
  /** The ssh client version, which decides what a MaxStartups drop looks like. */
  clientVersion?: OpenSshVersion;
  /** The tool's exit codes that carry a class of their own (TransferTool.exitClasses). */
  exitClasses?: Readonly<Partial<Record<number, FailureClass>>>;
}

// A mux race or a lost master falls back to a direct connection: on its own never the cause.
const fallback = (c: FailureClass) => c === 'mux_race' || c === 'mux_master_lost';

export function classify({ stderr, exitCode, timedOut, clientVersion, exitClasses }: ClassifyInput): Classification {
  const found = new Set<FailureClass>();
  for (const rule of RULES) if (rule.pattern.test(stderr)) found.add(rule.class);
  if (timedOut) found.add('timeout');
  if (!found.has('maxstartups_drop') && clientVersion && atLeast(clientVersion, 9, 5) && BARE_CLOSE.test(stderr) && !/Authenticated to|Permission denied/.test(stderr)) {
    found.add('maxstartups_drop');
  }
  // Where no message explains the exit, its code may: rsync's timeouts (30, 35) carry no ssh
  // message, and its 11 (file I/O) sometimes comes with no line at all.
  const byExit = exitCode === null ? undefined : exitClasses?.[exitCode];
  if (byExit && ![...found].some((c) => !fallback(c))) found.add(byExit);
  if (CUT_BY_RSYNC.test(stderr) && ![...found].some((c) => !fallback(c))) found.add('connection_reset');
  return ordered(found, exitCode !== 0 || timedOut === true);
}


/** Classes in precedence order and the primary one, for a failed attempt or not. */
export function ordered(found: ReadonlySet<FailureClass>, failed: boolean): Classification {
  const all = new Set(found);
  if (failed && ![...all].some((c) => !fallback(c))) all.add('unknown');
  const classes = PRIORITY.filter((c) => all.has(c));
  return { classes, primary: failed ? classes.find((c) => !fallback(c))! : null };
}
