/** A run's start, its end, and where `xferbench resume` picked it up. */

export interface RunStartRecord {
  type: 'run_start';
  name: string;
  started_at: string;
  scenario: unknown;
  plan: { cells: { index: number; id: string; values: Record<string, unknown> }[]; repeat: number; total_transfers: number };
  environment: Record<string, string>;
}

export interface RunEndRecord {
  type: 'run_end';
  ended_at: string;
  outcome: 'completed' | 'aborted' | 'error';
  error?: string;
}

/** `xferbench resume` continued the run here; the clock goes on from the records before. */
export interface RunResumeRecord {
  type: 'run_resume';
  resumed_at: string;
  /** Cell repeats already complete, not run again. */
  completed: number;
}
