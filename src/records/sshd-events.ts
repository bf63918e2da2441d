/** What a host's sshd logged, as records hold it (ssh/sshd-log.ts reads the log). */

export interface SshdCounters {
  /** Connections sshd dropped because of MaxStartups (its own count). */
  maxstartups_drops: number;
  /** Connections dropped because the source address was penalised (9.8+). */
  penalty_drops: number;
  throttling_periods: number;
  /** Sessions refused over MaxSessions ("no more sessions"). */
  sessions_refused: number;
  accepted_logins: number;
  connections: number;
}

export type SshdEventKind = 'throttle_begin' | 'throttle_end' | 'drop' | 'penalty_drop' | 'session_refused';

export interface SshdEvent {
  /** Milliseconds on the run's monotonic clock. */
  t: number;
  kind: SshdEventKind;
  line: string;
  /** A drop's client address and port, as sshd logged them. */
  peer?: { address: string; port: number };
}

export const emptyCounters = (): SshdCounters => ({
  maxstartups_drops: 0,
  penalty_drops: 0,
  throttling_periods: 0,
  sessions_refused: 0,
  accepted_logins: 0,
  connections: 0,
});
