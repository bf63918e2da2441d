import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import type { SFTPWrapper } from 'ssh2';
import type { DatasetPlan, Manifest } from '../../dataset/dataset.js';
import { writeEntries, type HostFiles, type ScannedFile } from '../host-files.js';

const READ_CHUNK = 32 * 1024;
const READ_DEPTH = 16;

type Entry = { filename: string; attrs: { size: number; isDirectory(): boolean; isFile(): boolean } };

/** One SFTP call as a promise. */
function call<T>(fn: (cb: (err: Error | null | undefined, value: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => fn((err, value) => (err ? reject(err) : resolve(value))));
}

/**
 * HostFiles on a server xferbench did not start (an external host), over one SFTP session: no
 * remote shell, so no path is ever parsed by one. Only what xferbench made below its own run folder
 * is written or removed.
 */
export class SftpHostFiles implements HostFiles {
  /** SFTP pipelines requests on one channel; a few files at a time keep it busy. */
  private readonly io = pLimit(8);

  constructor(private readonly sftp: SFTPWrapper) {}

  async writeDataset(dir: string, plan: DatasetPlan): Promise<Manifest> {
    await this.prepare(dir, plan.dirs);
    return writeEntries(plan, this.io, (path, chunks) => pipeline(Readable.from(chunks), this.sftp.createWriteStream(posix.join(dir, path), { mode: 0o644 })));
  }

  async prepare(dir: string, subdirs: readonly string[]): Promise<void> {
    await this.remove(dir);
    await this.mkdirs(dir);
    for (const sub of subdirs) await this.mkdirs(posix.join(dir, sub));
  }

  async scan(dir: string): Promise<ScannedFile[]> {
    const files: { path: string; size: number }[] = [];
    const walk = async (rel: string): Promise<void> => {
      for (const e of await this.list(posix.join(dir, rel))) {
        const path = rel ? `${rel}/${e.filename}` : e.filename;
        if (e.attrs.isDirectory()) await walk(path);
        else if (e.attrs.isFile()) files.push({ path, size: e.attrs.size });
      }
    };
    await walk('');
    return Promise.all(
      files.map((f) =>
        this.io(async () => ({ path: f.path, size: f.size, sha256: await this.sha256(posix.join(dir, f.path), f.size) })),
      ),
    );
  }

  /**
   * A file's digest from reads kept in flight, READ_DEPTH at a time: one read at a time waits a
   * round trip per 32 KiB (through a jump host whose onward TCP leg delays ACKs, ~45 ms each).
   * A read that comes back short before the end (the file changed) falls back to one stream.
   */
  private async sha256(path: string, size: number): Promise<string> {
    const handle = await call<Buffer>((cb) => this.sftp.open(path, 'r', cb));
    const pending: Promise<Buffer>[] = [];
    try {
      const hash = createHash('sha256');
      let next = 0;
      let seen = 0;
      const read = (pos: number) => {
        const len = Math.min(READ_CHUNK, size - pos);
        const p = new Promise<Buffer>((resolve, reject) =>
          this.sftp.read(handle, Buffer.alloc(len), 0, len, pos, (err, n, buf) => (err ? reject(err) : resolve(buf.subarray(0, n)))),
        );
        p.catch(() => undefined); // awaited in order below; an early failure must not be unhandled meanwhile
        pending.push(p);
        next = pos + len;
      };
      while (next < size && pending.length < READ_DEPTH) read(next);
      while (pending.length > 0) {
        const buf = await pending.shift()!;
        hash.update(buf);
        seen += buf.length;
        if (buf.length < Math.min(READ_CHUNK, size - (seen - buf.length))) return await this.streamedSha256(path);
        if (next < size) read(next);
      }
      return hash.digest('hex');
    } catch {
      return this.streamedSha256(path);
    } finally {
      await Promise.allSettled(pending);
      await call<void>((cb) => this.sftp.close(handle, cb)).catch(() => undefined);
    }
  }

  private async streamedSha256(path: string): Promise<string> {
    const hash = createHash('sha256');
    for await (const chunk of this.sftp.createReadStream(path)) hash.update(chunk as Buffer);
    return hash.digest('hex');
  }

  /** Removes `dir` and everything below it; symbolic links are removed, never followed. */
  async remove(dir: string): Promise<void> {
    let entries: Entry[];
    try {
      entries = await this.list(dir);
    } catch (e) {
      if ((e as { code?: number }).code === 2) return; // SSH_FX_NO_SUCH_FILE
      throw e;
    }
    for (const e of entries) {
      const path = posix.join(dir, e.filename);
      if (e.attrs.isDirectory()) await this.remove(path);
      else await call<void>((cb) => this.sftp.unlink(path, cb));
    }
    await call<void>((cb) => this.sftp.rmdir(dir, cb));
  }

  /** `mkdir -p`; returns the folders it made, parents first. */
  async mkdirs(dir: string): Promise<string[]> {
    const made: string[] = [];
    const parts = dir.split('/');
    for (let i = 1; i <= parts.length; i++) {
      const path = parts.slice(0, i).join('/');
      if (path === '') continue;
      const exists = await call<{ isDirectory(): boolean }>((cb) => this.sftp.stat(path, cb)).then((a) => a.isDirectory(), () => false);
      if (!exists) {
        await call<void>((cb) => this.sftp.mkdir(path, { mode: 0o700 }, cb));
        made.push(path);
      }
    }
    return made;
  }

  /** Removes an empty folder; false when it is not empty or not there. */
  rmdirIfEmpty(dir: string): Promise<boolean> {
    return call<void>((cb) => this.sftp.rmdir(dir, cb)).then(() => true, () => false);
  }

  private async list(dir: string): Promise<Entry[]> {
    const all = await call<Entry[]>((cb) => this.sftp.readdir(dir, cb));
    return all.filter((e) => e.filename !== '.' && e.filename !== '..');
  }
}
