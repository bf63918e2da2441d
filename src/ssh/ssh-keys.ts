import { readFile, chmod } from 'node:fs/promises';
import { runCommand } from '../process/run-command.js';
import { HostStartError } from '../util/errors.js';

export interface KeyPair {
  privatePath: string;
  /** The public key line (`ssh-ed25519 AAAA... comment`). */
  publicKey: string;
}

/** A fresh ed25519 key for this run only; the private half is 0600 and never leaves the state dir. */
export async function generateKeyPair(sshKeygen: string, path: string, comment: string): Promise<KeyPair> {
  const r = await runCommand(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', comment, '-f', path]);
  if (r.exitCode !== 0) throw new HostStartError(`ssh-keygen failed for ${path}: ${r.stderr.trim()}`);
  await chmod(path, 0o600);
  return { privatePath: path, publicKey: (await readFile(`${path}.pub`, 'utf8')).trim() };
}
