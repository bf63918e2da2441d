import { createHash } from 'node:crypto';
import { posix } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import pLimit from 'p-limit';
import type { SFTPWrapper } from 'ssh2';
import type { DatasetPlan, Manifest } from '../../dataset/dataset.js';
import { writeEntries, type HostFiles, type ScannedFile } from '../host-files.js';

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
        this.io(async () => {
          const hash = createHash('sha256');
          for await (const chunk of this.sftp.createReadStream(posix.join(dir, f.path))) hash.update(chunk as Buffer);
          return { path: f.path, size: f.size, sha256: hash.digest('hex') };
        }),
      ),
    );
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
