import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';

/** The parts of a HostControl that do the same on every backend whose host folder is on this machine. */

/** Replaces an authorized_keys file at once (sshd reads it at each login); resolves with its old text. */
export async function swapAuthorizedKeys(path: string, text: string): Promise<string> {
  const previous = await readFile(path, 'utf8');
  await writeFile(`${path}.new`, text, { mode: 0o600 });
  await rename(`${path}.new`, path);
  return previous;
}

/** Every folder below `dir`, relative: what must exist again on a file system mounted over it. */
export async function subfolders(dir: string): Promise<string[]> {
  return (await readdir(dir, { recursive: true, withFileTypes: true })).filter((e) => e.isDirectory()).map((e) => relative(dir, join(e.parentPath, e.name)));
}

export async function makeFolders(root: string, subdirs: readonly string[]): Promise<void> {
  for (const d of subdirs) await mkdir(join(root, d), { recursive: true });
}
