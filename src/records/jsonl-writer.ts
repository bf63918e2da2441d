import { closeSync, constants, openSync, writeSync } from 'node:fs';
import type { ResultRecord } from './result-record.js';

/**
 * results.jsonl: one record a line, written with a synchronous write each, so a crash or kill
 * loses nothing already recorded (the bytes are in the kernel once write returns).
 */
export class JsonlWriter implements Disposable {
  private fd: number | undefined;

  constructor(readonly path: string) {
    // A resumed run appends to a folder from elsewhere: a link planted at the name is not followed.
    this.fd = openSync(path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o644);
  }

  write(record: ResultRecord): void {
    if (this.fd !== undefined) writeSync(this.fd, `${JSON.stringify(record)}\n`);
  }

  close(): void {
    if (this.fd !== undefined) closeSync(this.fd);
    this.fd = undefined;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
