import { createHash } from 'node:crypto';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import pLimit from 'p-limit';
import type { DatasetPlan, Manifest } from '../../dataset/dataset.js';
import { writeEntries, type HostFiles, type ScannedFile } from '../host-files.js';

/** Below this a file is read in one call: a stream per small file cost more than its hashing. */
const WHOLE_READ_MAX = 4 * 2 ** 20;

export async function sizeAndHash(path: string): Promise<{ size: number; sha256: string }> {
  const hash = createHash('sha256');
  const handle = await open(path, 'r');
  try {
    const { size } = await handle.stat();
    if (size <= WHOLE_READ_MAX) hash.update(await handle.readFile());
    else for await (const chunk of handle.createReadStream({ highWaterMark: 1 << 20, autoClose: false })) hash.update(chunk as Buffer);
    return { size, sha256: hash.digest('hex') };
  } finally {
    await handle.close();
  }
}

/** HostFiles on this machine's file system (the client, and hosts of the local backend). */
export class LocalHostFiles implements HostFiles {
  /** Bounded so hashing thousands of files does not exhaust file descriptors. */
  private readonly io = pLimit(8);

  async writeDataset(dir: string, plan: DatasetPlan): Promise<Manifest> {
    await this.prepare(dir, plan.dirs);
    return writeEntries(plan, this.io, async (path, chunks) => {
      const handle = await open(join(dir, path), 'w', 0o644);
      try {
        for (const chunk of chunks) await handle.write(chunk);
      } finally {
        await handle.close();
      }
    });
  }

  async prepare(dir: string, subdirs: readonly string[]): Promise<void> {
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    for (const sub of subdirs) await mkdir(join(dir, sub), { recursive: true });
  }

  async scan(dir: string): Promise<ScannedFile[]> {
    let entries;
    try {
      entries = await readdir(dir, { recursive: true, withFileTypes: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    const files = entries.filter((e) => e.isFile());
    return Promise.all(
      files.map((e) =>
        this.io(async () => {
          const full = join(e.parentPath ?? e.path, e.name);
          return { path: relative(dir, full).split(sep).join('/'), ...(await sizeAndHash(full)) };
        }),
      ),
    );
  }
}
