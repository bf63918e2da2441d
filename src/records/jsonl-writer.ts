import { closeSync, openSync, writeSync } from 'node:fs';
import type { ResultRecord } from './transfer-record.js';

/**
 * results.jsonl: one record a line, written with a synchronous write each, so a crash or kill
 * loses nothing already recorded (the bytes are in the kernel once write returns).
 */
export class JsonlWriter implements Disposable {
  private fd: number | undefined;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'a', 0o644);
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
