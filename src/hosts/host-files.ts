import { createHash } from 'node:crypto';
import type { LimitFunction } from 'p-limit';
import { fileContent, type DatasetPlan, type Manifest, type ManifestEntry } from '../dataset/dataset.js';

/** A file found on a host, described the way the manifest describes files. */
export type ScannedFile = ManifestEntry;

/**
 * File operations on one side of a transfer (the client or a host). The local implementation
 * works on directories of this machine; a container implementation runs the same steps inside
 * the container.
 */
export interface HostFiles {
  /** Writes the dataset below `dir` and returns its manifest (sizes and SHA-256 of what was written). */
  writeDataset(dir: string, plan: DatasetPlan): Promise<Manifest>;
  /** Empties `dir` (creating it if needed) and creates the relative subdirectories. */
  prepare(dir: string, subdirs: readonly string[]): Promise<void>;
  /** Every regular file below `dir`, with its relative path, size and SHA-256. */
  scan(dir: string): Promise<ScannedFile[]>;
}

/**
 * Writes every file of `plan` with `write` (`io` bounds how many at once), hashing the bytes as
 * they are handed over, so the manifest describes what was written.
 */
export function writeEntries(plan: DatasetPlan, io: LimitFunction, write: (path: string, chunks: Iterable<Buffer>, size: number) => Promise<void>): Promise<Manifest> {
  return Promise.all(
    plan.entries.map((entry) =>
      io(async () => {
        const hash = createHash('sha256');
        await write(entry.path, (function* () {
          for (const chunk of fileContent(entry)) {
            hash.update(chunk);
            yield chunk;
          }
        })(), entry.size);
        return { path: entry.path, size: entry.size, sha256: hash.digest('hex') };
      }),
    ),
  );
}
