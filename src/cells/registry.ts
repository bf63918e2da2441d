import type { Scenario } from '../scenario/scenario-schema.js';
import { pipelineCell } from './pipeline-cell.js';
import type { CellKind } from './cell-kind.js';
import { transferCell } from './transfer-cell.js';

/** Every kind of cell by name: a scenario's `transfer:` or `pipeline:` picks one. */
export const CELL_KINDS = { transfer: transferCell, pipeline: pipelineCell } satisfies Record<string, CellKind>;

export const cellKindOf = (s: Scenario): keyof typeof CELL_KINDS => (s.pipeline ? 'pipeline' : 'transfer');
