import { closeSync, constants, fchmodSync, fchownSync, fstatSync, futimesSync, lstatSync, mkdirSync, openSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { lstat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { RSYNC_TEMP } from './layout.js';
import type { FileState } from './state-file.js';

export type SourceMetadata = Pick<FileState, 'size' | 'mode' | 'uid' | 'gid' | 'atime_ns' | 'mtime_ns'>;

/** The source's lstat, recorded before the transfer: what the committed file must end up with. */
export async function sourceMetadata(path: string): Promise<SourceMetadata> {
  const s = await lstat(path, { bigint: true });
  return { size: Number(s.size), mode: Number(s.mode & 0o7777n), uid: Number(s.uid), gid: Number(s.gid), atime_ns: String(s.atimeNs), mtime_ns: String(s.mtimeNs) };
}

/** utimes takes seconds; a double keeps them to well under a microsecond for current dates. */
const seconds = (ns: string) => Number(BigInt(ns) / 1000n) / 1e6;

/**
 * temp-rename commit of one landed file, in a checkpoint library's order: check the size
 * against the source's, chmod, chown (only as root: anyone else may not give files away),
 * set atime and mtime, then rename into place: the final path never holds a partial file.
 * Synchronous: a handful of metadata calls cost less on this thread than a round trip each
 * through libuv's four-thread pool (16,384 ranks finalized 2x faster so; bench/finalize.ts).
 */
export function commitFile(f: FileState): FileState {
  let fd: number | undefined;
  try {
    // The metadata goes on through the descriptor of the file itself: a link planted at the
    // temporary's name is not opened (O_NOFOLLOW), so nothing it points to is changed.
    try {
      fd = openSync(f.temp, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ELOOP') return { ...f, status: 'error', error: 'the temporary is a symbolic link' };
      if (code !== 'ENOENT') throw e;
      // Renamed by a finalize that stopped before it saved the state: done already.
      const final = lstatSync(f.final, { throwIfNoEntry: false });
      if (final?.isFile() && final.size === f.size) return { ...f, status: 'final' };
      return { ...f, status: 'error', error: 'the temporary is gone' };
    }
    const s = fstatSync(fd);
    if (!s.isFile()) return { ...f, status: 'error', error: 'the temporary is not a regular file' };
    if (s.size !== f.size) return { ...f, status: 'error', error: `size ${s.size}, source had ${f.size}` };
    fchmodSync(fd, f.mode);
    if (process.getuid?.() === 0) fchownSync(fd, f.uid, f.gid);
    futimesSync(fd, seconds(f.atime_ns), seconds(f.mtime_ns));
    mkdirSync(dirname(f.final), { recursive: true });
    renameSync(f.temp, f.final);
    return { ...f, status: 'final' };
  } catch (e) {
    return { ...f, status: 'error', error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Deletes a file's temporary (gone already is fine: what matters is that none is left). */
export function discardFile(f: FileState): FileState {
  rmSync(f.temp, { force: true });
  return { ...f, status: 'removed' };
}

/** mtime as recorded, within 2 µs: utimes takes a double of seconds, which holds today's dates to ~0.25 µs. */
export const sameTimes = (ns: bigint, recorded: string): boolean => {
  const d = ns - BigInt(recorded);
  return d < 2000n && d > -2000n;
};

/**
 * rsync's own temporaries (.NAME.XXXXXX) of these files (relative to `dir`), left by an rsync
 * killed mid-file: a new rsync would not remove the old one's.
 */
export function removeRsyncTemps(dir: string, paths: readonly string[]): void {
  const byDir = new Map<string, Set<string>>();
  for (const p of paths) {
    const d = join(dir, dirname(p));
    byDir.set(d, (byDir.get(d) ?? new Set()).add(basename(p)));
  }
  for (const [d, names] of byDir) {
    let entries: string[];
    try {
      entries = readdirSync(d);
    } catch {
      continue;
    }
    for (const e of entries) {
      const m = RSYNC_TEMP.exec(e);
      if (m && names.has(m[1]!)) rmSync(join(d, e), { force: true });
    }
  }
}

/**
 * What a rank leaves in a shared temporary folder, removed: its files' temporaries and rsync's
 * own. Other ranks' files are never touched (their names are not the rank's), nor the folders,
 * which other ranks may be writing into: they go with the repeat (pipeline-cell.ts) or finalize.
 */
export function removeRankTemps(root: string, paths: readonly string[]): void {
  for (const p of paths) rmSync(join(root, p), { force: true });
  removeRsyncTemps(root, paths);
}
