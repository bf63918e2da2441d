import type { Plan, PlanCell } from '../plan/plan.js';
import type { TransferRecord } from '../records/transfer-record.js';
import type { CellRecord } from '../records/cell-record.js';

/** What a run tells its watchers (progress display, API users) as it goes, beside results.jsonl. */
export type RunEvent =
  | { type: 'planned'; plan: Plan }
  /** Set-up progress worth showing (e.g. the first build of the container image). */
  | { type: 'notice'; message: string }
  | { type: 'topology_started'; hosts: string[]; ms: number }
  | { type: 'cell_start'; cell: PlanCell; repeat: number; of: number }
  | { type: 'transfer'; record: TransferRecord }
  | { type: 'cell_end'; cell: PlanCell; record: CellRecord };
