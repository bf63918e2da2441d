import { chmod, chown, lstat, mkdir, rename, rm, stat, utimes } from 'node:fs/promises';
import { dirname } from 'node:path';
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
 */
export async function commitFile(f: FileState): Promise<FileState> {
  try {
    const s = await stat(f.temp);
    if (s.size !== f.size) return { ...f, status: 'error', error: `size ${s.size}, source had ${f.size}` };
    await chmod(f.temp, f.mode);
    if (process.getuid?.() === 0) await chown(f.temp, f.uid, f.gid);
    await utimes(f.temp, seconds(f.atime_ns), seconds(f.mtime_ns));
    await mkdir(dirname(f.final), { recursive: true });
    await rename(f.temp, f.final);
    return { ...f, status: 'final' };
  } catch (e) {
    return { ...f, status: 'error', error: (e as NodeJS.ErrnoException).code ?? (e as Error).message };
  }
}

/** Deletes a file's temporary (gone already is fine: what matters is that none is left). */
export async function discardFile(f: FileState): Promise<FileState> {
  await rm(f.temp, { force: true });
  return { ...f, status: 'removed' };
}

/** mtime as recorded, within 2 µs: utimes takes a double of seconds, which holds today's dates to ~0.25 µs. */
export const sameTimes = (ns: bigint, recorded: string): boolean => {
  const d = ns - BigInt(recorded);
  return d < 2000n && d > -2000n;
};
