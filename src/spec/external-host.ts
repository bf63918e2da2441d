import * as z from 'zod';
import { int } from './fields.js';

/**
 * A server someone else runs (docs/site.md). Every value ends up in an ssh_config line, an
 * rsync path or a file name this machine opens: plain characters only, no option, no `..`.
 */
const LOCAL_PATH = /^(~\/)?[\w@%+=:,./-]+$/;
const REMOTE_DIR = /^[\w./+-]+$/;

const localPath = (what: string) =>
  z
    .string()
    .max(4096)
    .regex(LOCAL_PATH, `${what}: a path of letters, digits and @%+=:,./_- (an ssh_config carries it), optionally starting with ~/`)
    .refine((p) => !p.startsWith('-'), `${what}: must not start with "-"`);

export const externalHostSchema = z.strictObject({
  /** Host name or address, as ssh's HostName takes it. */
  address: z
    .string()
    .max(253)
    .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/, 'a host name or an IP address (no brackets, no user, no port)'),
  port: int(1, 65535).default(22),
  user: z.string().regex(/^[a-z_][a-z0-9_.-]{0,31}$/, 'a login name: lower-case letters, digits, "_", "." or "-", starting with a letter or "_"'),
  /** The private key the server accepts: the user's own, read where it is, never copied. */
  identity: localPath('identity'),
  /** A known_hosts file with the server's keys (hashed or not): pinned, no trust on first use. */
  known_hosts: localPath('known_hosts'),
  /**
   * Folder (below the login's home, or absolute) in which each run makes its own and removes it.
   * Without it the host is only a jump host: xferbench opens no session there.
   */
  dir: z
    .string()
    .max(1024)
    .regex(REMOTE_DIR, 'a folder of letters, digits and ./_+- (rsync hands it to the login\'s shell)')
    .refine((d) => !d.split('/').includes('..') && d.replace(/\/+$/, '') !== '', 'a folder below which runs make their own: not "/" and no ".."')
    .optional(),
});

export type ExternalHostSpec = z.infer<typeof externalHostSchema>;

/**
 * What a run aims at a server it did not start unless told `--i-administer-this-host` (as `probe`'s
 * --max): transfers in flight to it at once, and new transfers (each a connection, or a session on
 * a master) started per second, in bursts of at most `burst`. The burst stays at sshd's default
 * MaxStartups start (10), so the default load does not make the site's sshd drop other users'
 * logins.
 */
export const EXTERNAL_CAPS = { concurrency: 30, startsPerSecond: 10, burst: 10 } as const;
