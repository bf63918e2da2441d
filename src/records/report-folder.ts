import { closeSync, constants, fstatSync, lstatSync, openSync, readSync } from 'node:fs';
import { lstat, mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import type * as z from 'zod';
import { XferbenchError } from '../util/errors.js';

/**
 * A report folder is input from someone else (a CI artifact, a colleague's run): xferbench reads
 * and writes in it only below the folder it was given, never through a link planted in it, and
 * never reads a file whole without checking its size first (docs/security.md).
 */
export const REPORT_CAPS = {
  /** results.jsonl: a million transfers at ~700 bytes a record. Read line by line, never whole. */
  results: 1024 ** 3,
  /** One JSONL record: the largest, a cell's sshd events, stays far below. */
  line: 4 * 1024 ** 2,
  /** One rank's state file: ~350 bytes a committed file, ~190,000 files. */
  state: 64 * 1024 ** 2,
  /** A host's or a compute step's log, shown in report.html. */
  log: 16 * 1024 ** 2,
} as const;

/** Something in a report folder is unsafe or malformed; the message names the file. Exit 2. */
export class ReportFolderError extends XferbenchError {}

const show = (p: string) => JSON.stringify(p);

/**
 * `rel` (relative, with no `..` leaving it) below `root`, where no existing component from `root`
 * down is a symbolic link: the path a report folder's own data may name. Throws otherwise.
 */
export function confined(root: string, rel: string, known?: Set<string>): string {
  if (typeof rel !== 'string' || rel.length === 0 || isAbsolute(rel) || rel.includes('\0')) throw new ReportFolderError(`${show(rel)} is not a path relative to ${root}`);
  const base = resolve(root);
  const full = resolve(base, rel);
  const inner = relative(base, full);
  if (inner === '' || inner === '..' || inner.startsWith(`..${sep}`) || isAbsolute(inner)) throw new ReportFolderError(`${show(rel)} leaves ${base}`);
  noLinkBelow(base, inner, known);
  return full;
}

/**
 * Refuses when a component of `inner` below `base` (that exists) is a symbolic link. `known`
 * holds folders already found to be real ones, so many paths through the same folders (a
 * finalize of 16,384 ranks) look at each once.
 */
function noLinkBelow(base: string, inner: string, known?: Set<string>): void {
  let at = base;
  const parts = inner.split(sep);
  for (const [i, part] of parts.entries()) {
    at = join(at, part);
    const leaf = i === parts.length - 1;
    if (!leaf && known?.has(at)) continue;
    const s = lstatSync(at, { throwIfNoEntry: false });
    if (!s) return; // nothing below a missing component exists either
    if (s.isSymbolicLink()) throw new ReportFolderError(`${at} is a symbolic link; a report folder's paths are never followed out of it`);
    if (!leaf && s.isDirectory()) known?.add(at);
  }
}

/** `path` below `root`, checked as confined() does; for paths the harness built itself. */
export function checkInside(root: string, path: string): string {
  return confined(root, relative(resolve(root), resolve(path)));
}

/**
 * The folder `rel` below `root`, made where missing; refused where a component is a link or not
 * a folder (a planted `logs` file or link is never written through).
 */
export async function realFolder(root: string, rel: string): Promise<string> {
  // confined() found no link among what exists; what mkdir adds is new.
  const full = confined(root, rel);
  await mkdir(full, { recursive: true });
  const s = await lstat(full);
  if (!s.isDirectory()) throw new ReportFolderError(`${full} is not a folder`);
  return full;
}

/**
 * A regular file of at most `cap` bytes, opened without following a link at its name (and
 * O_NONBLOCK: a FIFO planted there must not hang the open; it is refused by its type); undefined
 * when it does not exist and `missingOk`. The caller closes the descriptor.
 */
function openCapped(path: string, cap: number, missingOk: boolean): { fd: number; size: number } | undefined {
  let fd: number;
  try {
    fd = openSync(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' && missingOk) return undefined;
    if (code === 'ELOOP') throw new ReportFolderError(`${path} is a symbolic link; it is not followed`);
    throw new ReportFolderError(`cannot read ${path}: ${code ?? (e as Error).message}`);
  }
  try {
    const s = fstatSync(fd);
    if (!s.isFile()) throw new ReportFolderError(`${path} is not a regular file`);
    if (s.size > cap) throw new ReportFolderError(`${path} is ${s.size} bytes; at most ${cap} are read (docs/security.md)`);
    return { fd, size: s.size };
  } catch (e) {
    closeSync(fd);
    throw e;
  }
}

/**
 * Reads a regular file of at most `cap` bytes without following a link at its name and without
 * reading past the size checked (a file that grows meanwhile is cut there). Undefined when it
 * does not exist. On this thread: the files are small, and a finalize reads thousands in a row,
 * where a round trip each through libuv's thread pool costs more than the read.
 */
export function readCapped(path: string, cap: number): Buffer | undefined {
  const opened = openCapped(path, cap, true);
  if (!opened) return undefined;
  try {
    const buffer = Buffer.alloc(opened.size);
    let at = 0;
    while (at < buffer.length) {
      const n = readSync(opened.fd, buffer, at, buffer.length - at, at);
      if (n === 0) break;
      at += n;
    }
    return buffer.subarray(0, at);
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * The complete lines of a JSONL file, read in chunks: at most `cap` bytes in all and `lineCap` a
 * line. A last line without its newline (a crash mid-write) is given too; the caller decides.
 */
export async function* jsonlLines(path: string, cap: number, lineCap: number = REPORT_CAPS.line): AsyncGenerator<{ line: number; text: string; last: boolean }> {
  const { fd, size } = openCapped(path, cap, false)!;
  try {
    const chunk = Buffer.alloc(1 << 20);
    let pending: Buffer[] = [];
    let pendingBytes = 0;
    let line = 0;
    let position = 0;
    for (;;) {
      const bytesRead = readSync(fd, chunk, 0, Math.min(chunk.length, Math.max(0, size - position)), position);
      if (bytesRead === 0) break;
      position += bytesRead;
      let start = 0;
      for (let nl = chunk.indexOf(10, 0); nl !== -1 && nl < bytesRead; nl = chunk.indexOf(10, start)) {
        line++;
        if (pendingBytes + nl - start > lineCap) throw new ReportFolderError(`${path} line ${line}: longer than ${lineCap} bytes`);
        const text = Buffer.concat([...pending, chunk.subarray(start, nl)]).toString('utf8');
        pending = [];
        pendingBytes = 0;
        start = nl + 1;
        yield { line, text, last: false };
      }
      if (start < bytesRead) {
        pendingBytes += bytesRead - start;
        if (pendingBytes > lineCap) throw new ReportFolderError(`${path} line ${line + 1}: longer than ${lineCap} bytes`);
        pending.push(Buffer.from(chunk.subarray(start, bytesRead)));
      }
    }
    if (pendingBytes > 0) yield { line: line + 1, text: Buffer.concat(pending).toString('utf8'), last: true };
  } finally {
    closeSync(fd);
  }
}

/**
 * Writes `path` whole without following a link planted at its name: an exclusive create of a
 * fresh temporary beside it, then a rename over the name (which replaces a link, never writes
 * through it). A folder at the name is refused by the rename.
 */
export async function writeNoFollow(path: string, content: string | Uint8Array, mode = 0o644): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, mode);
  try {
    try {
      await handle.writeFile(content);
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

/**
 * Refuses a folder of a report that holds a symbolic link anywhere below it: the harness makes
 * none there, so one is planted, and writing, moving or deleting below it could act outside.
 */
export async function refuseLinks(root: string, rel: string): Promise<string> {
  const full = confined(root, rel);
  const entries = await readdir(full, { recursive: true, withFileTypes: true }).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [];
    throw new ReportFolderError(`cannot read ${full}: ${e.code ?? e.message}`);
  });
  const link = entries.find((e) => e.isSymbolicLink());
  if (link) throw new ReportFolderError(`${join(link.parentPath, link.name)} is a symbolic link; a report folder's data is never followed out of it`);
  return full;
}

/** A schema library's first complaint as one line: where in the value, and what is wrong. */
export function schemaProblem(error: z.ZodError): string {
  const issue = error.issues[0]!;
  const where = issue.path.map((p) => (typeof p === 'number' ? `[${p}]` : `.${String(p)}`)).join('').replace(/^\./, '');
  return `${where ? `${where}: ` : ''}${issue.message}${error.issues.length > 1 ? ` (and ${error.issues.length - 1} more)` : ''}`;
}
