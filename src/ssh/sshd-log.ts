/**
 * Server-side counters from sshd's own log (run with -D -e, LogLevel VERBOSE). The patterns cover
 * OpenSSH 8.4 to 10.x (docs/openssh-messages.md): the drop line changed from
 * "past MaxStartups" to "past Maxstartups"/"Maxstartups" and 10.0 dropped the throttling lines.
 */
import { emptyCounters, type SshdCounters, type SshdEvent, type SshdEventKind } from '../records/sshd-events.js';

const DROP = /drop connection #\d+ from \[([^\]]+)\]:(\d+) on \S+ (?:past )?maxstartups/i;
const PENALTY_DROP = /drop connection #\d+ from \S+ on \S+ penalty: /i;
const RATE_LIMITED = /logging rate-limited: additional (\d+) connections dropped/i;
const BEGIN = /beginning MaxStartups throttling/i;
const EXITED = /exited MaxStartups throttling after [\d:]+, (\d+) connections dropped/i;

export interface ParsedSshdLine {
  counters: Partial<SshdCounters>;
  event?: SshdEventKind;
  peer?: { address: string; port: number };
}

export function parseSshdLine(line: string): ParsedSshdLine {
  const drop = DROP.exec(line);
  if (drop) return { counters: { maxstartups_drops: 1 }, event: 'drop', peer: { address: drop[1]!, port: Number(drop[2]) } };
  if (PENALTY_DROP.test(line)) return { counters: { penalty_drops: 1 }, event: 'penalty_drop' };
  const limited = RATE_LIMITED.exec(line);
  if (limited) return { counters: { maxstartups_drops: Number(limited[1]) } };
  if (BEGIN.test(line)) return { counters: { throttling_periods: 1 }, event: 'throttle_begin' };
  if (EXITED.test(line)) return { counters: {}, event: 'throttle_end' };
  if (/no more sessions/.test(line)) return { counters: { sessions_refused: 1 }, event: 'session_refused' };
  if (/^Accepted publickey for /.test(line)) return { counters: { accepted_logins: 1 } };
  if (/^Connection from \S+ port \d+ on /.test(line)) return { counters: { connections: 1 } };
  return { counters: {} };
}

export function addCounters(into: SshdCounters, add: Partial<SshdCounters>): void {
  for (const [k, v] of Object.entries(add) as [keyof SshdCounters, number][]) into[k] += v;
}

export function diffCounters(after: SshdCounters, before: SshdCounters): SshdCounters {
  const out = emptyCounters();
  for (const k of Object.keys(out) as (keyof SshdCounters)[]) out[k] = after[k] - before[k];
  return out;
}

/** Accumulates one host's log: counters, timed events and the raw lines. */
export class SshdLog {
  readonly counters = emptyCounters();
  readonly events: SshdEvent[] = [];
  readonly lines: { t: number; line: string }[] = [];
  private lastLineAt = 0;

  constructor(private readonly clock: () => number) {}

  push(line: string): void {
    const t = this.clock();
    this.lastLineAt = t;
    this.lines.push({ t, line });
    const parsed = parseSshdLine(line);
    addCounters(this.counters, parsed.counters);
    if (parsed.event) this.events.push({ t, kind: parsed.event, line, ...(parsed.peer ? { peer: parsed.peer } : {}) });
  }

  snapshot(): SshdCounters {
    return { ...this.counters };
  }

  /** Milliseconds since the last line arrived (for waiting until the log is quiet). */
  idleFor(): number {
    return this.clock() - this.lastLineAt;
  }
}
