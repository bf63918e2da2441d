import { createHash } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import pLimit from 'p-limit';
import type { DatasetPlan, Manifest } from '../../dataset/dataset.js';
import { writeEntries, type HostFiles, type ScannedFile } from '../host-files.js';

/** Below this a file is read in one call: a stream per small file cost more than its hashing. */
const WHOLE_READ_MAX = 4 * 2 ** 20;
/**
 * Up to this a file is read or written on this thread: each of the five asynchronous calls a file
 * costs (open, stat, read, close) is a hand-off to libuv's thread pool and back, which for a 1 KiB
 * file costs more CPU than the file itself. A run yields after every SYNC_BATCH such files.
 */
const SYNC_MAX = 256 * 1024;
const SYNC_BATCH = 64;

/** Lets the event loop turn after every SYNC_BATCH calls (timers, signals, child exits). */
function yielder(): () => Promise<void> {
  let n = 0;
  return () => (++n % SYNC_BATCH === 0 ? new Promise<void>((resolve) => setImmediate(resolve)) : Promise.resolve());
}

/** A small file's size and digest without the thread pool; undefined when it is not small. */
function smallSizeAndHash(path: string): { size: number; sha256: string } | undefined {
  // O_NONBLOCK: a FIFO planted where a file was expected must not stop this thread in open().
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile() || stat.size > SYNC_MAX) return undefined;
    const data = readFileSync(fd);
    return { size: data.length, sha256: createHash('sha256').update(data).digest('hex') };
  } finally {
    closeSync(fd);
  }
}

export async function sizeAndHash(path: string): Promise<{ size: number; sha256: string }> {
  const small = smallSizeAndHash(path);
  if (small) return small;
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
    const turn = yielder();
    return writeEntries(plan, this.io, async (path, chunks, size) => {
      if (size <= SYNC_MAX) {
        writeFileSync(join(dir, path), Buffer.concat([...chunks]), { mode: 0o644 });
        return turn();
      }
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
    const turn = yielder();
    return Promise.all(
      files.map((e) =>
        this.io(async () => {
          const full = join(e.parentPath ?? e.path, e.name);
          const got = await sizeAndHash(full);
          await turn();
          return { path: relative(dir, full).split(sep).join('/'), ...got };
        }),
      ),
    );
  }
}
