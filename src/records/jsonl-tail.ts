import { open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * The complete lines appended to a folder's JSONL files since the last read: records other
 * processes (Slurm tasks and jobs) write with one write() a line, picked up while they run.
 * A line still being written waits for its newline.
 */
export class JsonlTail {
  private readonly offsets = new Map<string, number>();

  constructor(
    readonly dir: string,
    /** Which files of the folder to follow, by name. */
    readonly follow: (name: string) => boolean,
  ) {}

  async read<T>(): Promise<T[]> {
    const out: T[] = [];
    const names = (await readdir(this.dir).catch(() => [] as string[])).filter((n) => n.endsWith('.jsonl') && this.follow(n)).sort();
    for (const name of names) {
      const path = join(this.dir, name);
      const from = this.offsets.get(path) ?? 0;
      const file = await open(path, 'r');
      try {
        const { size } = await file.stat();
        if (size <= from) continue;
        const buffer = Buffer.alloc(size - from);
        const { bytesRead } = await file.read(buffer, 0, buffer.length, from);
        const end = buffer.subarray(0, bytesRead).lastIndexOf(0x0a);
        if (end < 0) continue;
        this.offsets.set(path, from + end + 1);
        for (const line of buffer.subarray(0, end).toString('utf8').split('\n')) if (line.trim()) out.push(JSON.parse(line) as T);
      } finally {
        await file.close();
      }
    }
    return out;
  }
}
