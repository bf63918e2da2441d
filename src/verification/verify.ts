import type { Manifest } from '../dataset/dataset.js';
import type { ScannedFile } from '../hosts/host-files.js';
import { succeeded, type TransferRecord } from '../records/transfer-record.js';
import { type FileVerdict, type VerificationRecord } from '../records/cell-record.js';

/**
 * Compares what arrived with the manifest: every expected file is ok, missing or corrupt (size
 * or SHA-256 differ); anything else found is extra (e.g. a temp file a killed rsync left).
 */
export function verifyDestination(manifest: Manifest, found: readonly ScannedFile[]): Pick<VerificationRecord, 'counts' | 'problems'> & { verdicts: Map<string, FileVerdict> } {
  const byPath = new Map(found.map((f) => [f.path, f]));
  const counts: Record<FileVerdict, number> = { ok: 0, missing: 0, corrupt: 0, extra: 0 };
  const problems: VerificationRecord['problems'] = [];
  const verdicts = new Map<string, FileVerdict>();
  for (const expected of manifest) {
    const actual = byPath.get(expected.path);
    byPath.delete(expected.path);
    const verdict: FileVerdict = !actual ? 'missing' : actual.size === expected.size && actual.sha256 === expected.sha256 ? 'ok' : 'corrupt';
    counts[verdict]++;
    verdicts.set(expected.path, verdict);
    if (verdict !== 'ok') {
      problems.push({ path: expected.path, verdict, expected_size: expected.size, ...(actual ? { actual_size: actual.size } : {}) });
    }
  }
  for (const extra of byPath.values()) {
    counts.extra++;
    verdicts.set(extra.path, 'extra');
    problems.push({ path: extra.path, verdict: 'extra', actual_size: extra.size });
  }
  return { counts, problems, verdicts };
}

/** The bug users hunt: the tool said it succeeded, yet the file is not there intact. */
export function silentDrops(transfers: readonly TransferRecord[], verdicts: ReadonlyMap<string, FileVerdict>): string[] {
  return transfers
    .filter((t) => succeeded(t) && verdicts.get(t.file) !== 'ok')
    .map((t) => t.file);
}
