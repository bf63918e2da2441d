import pLimit from 'p-limit';
import type { TransferRecord } from '../records/transfer-record.js';
import { runTransfer, type TransferPolicy } from './run-transfer.js';
import type { TransferJob } from './transfer-tool.js';

/**
 * Runs jobs with at most `concurrency` at once (all at once when concurrency >= jobs, as a
 * shell loop with `&` would), streaming each record as it completes.
 */
export function runTransferPool(
  jobs: readonly TransferJob[],
  concurrency: number,
  policy: TransferPolicy,
  where: { cell: string; repeat: number },
  onRecord: (record: TransferRecord) => void = () => undefined,
): Promise<TransferRecord[]> {
  const limit = pLimit(concurrency);
  return Promise.all(
    jobs.map((job) =>
      limit(async () => {
        const record = await runTransfer(job, where.cell, where.repeat, policy);
        const records = job.batch ? perFile(record, job.batch) : [record];
        for (const r of records) onRecord(r);
        return records;
      }),
    ),
  ).then((all) => all.flat());
}

/** A batch invocation as one record per file, each with the invocation's outcome and times. */
export function perFile(record: TransferRecord, batch: NonNullable<TransferJob['batch']>): TransferRecord[] {
  return batch.entries.map((entry) => ({ ...record, file: entry.path, bytes: entry.size, batch: batch.id }));
}
