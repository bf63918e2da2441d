import { createHmac } from 'node:crypto';
import { open } from 'node:fs/promises';
import { homedir } from 'node:os';
import { XferbenchError } from '../util/errors.js';

/** A known_hosts file, or a key, larger than this is not one: refused before it is read whole. */
const MAX_FILE_BYTES = 4 * 2 ** 20;

/** `~/` at the start of a path the user wrote (as ssh reads -i and UserKnownHostsFile). */
export const expandHome = (path: string): string => (path.startsWith('~/') ? `${homedir()}/${path.slice(2)}` : path);

/** A file the user named (a key, a known_hosts), read with its size capped. */
export async function readUserFile(path: string, what: string): Promise<Buffer> {
  const fail = (why: string): never => {
    throw new XferbenchError(`cannot read the ${what} ${path}: ${why}`);
  };
  const handle = await open(expandHome(path), 'r').catch((e: NodeJS.ErrnoException) => fail(e.code ?? e.message));
  try {
    const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
    const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
    if (bytesRead > MAX_FILE_BYTES) fail(`larger than ${MAX_FILE_BYTES} bytes`);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

/** Does a known_hosts host field (a pattern list, or one `|1|salt|hash` entry) name `name`? */
function names(field: string, name: string): boolean {
  const hashed = /^\|1\|([A-Za-z0-9+/=]+)\|([A-Za-z0-9+/=]+)$/.exec(field);
  if (hashed) return createHmac('sha1', Buffer.from(hashed[1]!, 'base64')).update(name).digest('base64') === hashed[2];
  return field.split(',').includes(name);
}

/**
 * The host's keys from a known_hosts file: lines naming `host` (port 22) or `[host]:port`, plain
 * or hashed (HashKnownHosts). Markers (@revoked, @cert-authority) and wildcards are not read: a
 * key must be pinned for this very name.
 */
export async function hostKeysFrom(file: string, host: string, port: number): Promise<string[]> {
  const text = (await readUserFile(file, 'known_hosts file')).toString('utf8');
  const name = port === 22 ? host : `[${host}]:${port}`;
  const keys = text
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 3 && !f[0]!.startsWith('#') && !f[0]!.startsWith('@') && names(f[0]!, name))
    .map((f) => `${f[1]} ${f[2]}`);
  if (keys.length === 0) throw new XferbenchError(`${file} has no key for ${name}; xferbench checks the host's key like ssh does, and never trusts one on first use`);
  return keys;
}
