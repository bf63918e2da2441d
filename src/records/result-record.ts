/** Every kind of line of results.jsonl. */
import type { CellRecord, VerificationRecord } from './cell-record.js';
import type { FaultRecord } from './fault-record.js';
import type { InvariantsRecord, StepRecord } from './pipeline-records.js';
import type { RunEndRecord, RunResumeRecord, RunStartRecord } from './run-records.js';
import type { TransferRecord } from './transfer-record.js';

export type ResultRecord = RunStartRecord | TransferRecord | VerificationRecord | CellRecord | FaultRecord | RunEndRecord | StepRecord | InvariantsRecord | RunResumeRecord;
