import { open, type FileHandle } from 'node:fs/promises';

const POLL_MS = 50;

/**
 * Follows a log file that another process appends to, line by line. `sync()` reads to the end
 * now: a writer's write() is visible at once, so after sync() every line written so far is in.
 */
export class LogTail {
  private offset = 0;
  private partial = '';
  private readonly timer: NodeJS.Timeout;
  private reading: Promise<void> = Promise.resolve();

  private constructor(
    private readonly handle: FileHandle,
    private readonly onLine: (line: string) => void,
  ) {
    this.timer = setInterval(() => void this.sync(), POLL_MS);
    this.timer.unref();
  }

  static async open(path: string, onLine: (line: string) => void): Promise<LogTail> {
    return new LogTail(await open(path, 'r'), onLine);
  }

  /** Reads whatever was appended since the last read (one read at a time). */
  sync(): Promise<void> {
    this.reading = this.reading.then(async () => {
      const buf = Buffer.alloc(1 << 16);
      for (;;) {
        const { bytesRead } = await this.handle.read(buf, 0, buf.length, this.offset).catch(() => ({ bytesRead: 0 }));
        if (bytesRead === 0) return;
        this.offset += bytesRead;
        const lines = (this.partial + buf.toString('utf8', 0, bytesRead)).split('\n');
        this.partial = lines.pop()!;
        for (const line of lines) this.onLine(line);
      }
    });
    return this.reading;
  }

  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.sync();
    await this.handle.close();
  }
}
