/**
 * A fault applied to a host (fault_start) or undone (fault_end), on the run clock (faults/); or
 * never applied because the cell's transfers ended before its time came (fault_missed, at the
 * moment they ended, `detail` saying why): a reader must not believe a fault happened that did not.
 */
export interface FaultRecord {
  type: 'fault_start' | 'fault_end' | 'fault_missed';
  cell: string;
  repeat: number;
  /** Its index in the scenario's faults. */
  fault: number;
  kind: string;
  host: string;
  t_ms: number;
  detail: string;
}
