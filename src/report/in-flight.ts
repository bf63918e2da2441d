import type { TransferRecord } from '../records/transfer-record.js';

/** How many transfers really ran at once in one repeat of a cell, from the attempts' own times. */
export interface InFlight {
  /** Most attempts running at the same moment. */
  peak: number;
  /** Time-weighted median of attempts running, from the first launch to the last exit. */
  median: number;
  /** The concurrency that could be reached: the configured one, or fewer files. */
  target: number;
  /** ms from the first launch to the target-th (null when fewer attempts were launched). */
  ramp_ms: number | null;
  /** ms from the first launch to the first exit: past it, a later launch no longer adds to the peak. */
  first_end_ms: number | null;
  /** Longest wait from asking the launcher to its fork (null: no launcher, an in-process tool). */
  launch_lag_ms: number | null;
}

/** A cell whose peak stays under this share of its target is flagged: it measured less than it says. */
export const IN_FLIGHT_WARN_SHARE = 0.9;

/**
 * Attempts running after each launch or exit, in time order: the one definition of "in flight"
 * for the metrics below and the timeline chart. Backoff between attempts is not in flight.
 */
export function inFlightSteps(transfers: readonly TransferRecord[]): { t: number; running: number }[] {
  // Ends sort before starts at the same instant: back-to-back attempts never overlap.
  const events = invocations(transfers).flatMap((t) => t.attempts.flatMap((a) => [[a.start_ms, 1], [a.end_ms, -1]] as const)).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let running = 0;
  return events.map(([t, d]) => ({ t, running: (running += d) }));
}

/** One record per invocation: the files of a batch ran in one process, not at once each. */
function invocations(transfers: readonly TransferRecord[]): TransferRecord[] {
  const seen = new Set<string>();
  return transfers.filter((t) => t.batch === undefined || (!seen.has(t.batch) && seen.add(t.batch) !== undefined));
}

export function inFlight(transfers: readonly TransferRecord[], concurrency: number): InFlight {
  const target = Math.max(1, Math.min(concurrency, invocations(transfers).length));
  const steps = inFlightSteps(transfers);
  let peak = 0;
  const time = new Map<number, number>(); // attempts running -> ms spent at that level
  for (let i = 0; i < steps.length; i++) {
    peak = Math.max(peak, steps[i]!.running);
    const next = steps[i + 1];
    if (next) time.set(steps[i]!.running, (time.get(steps[i]!.running) ?? 0) + (next.t - steps[i]!.t));
  }
  const total = [...time.values()].reduce((a, b) => a + b, 0);
  let median = 0;
  let seen = 0;
  for (const [level, ms] of [...time].sort((a, b) => a[0] - b[0])) {
    seen += ms;
    median = level;
    if (seen >= total / 2) break;
  }
  const starts = invocations(transfers).flatMap((t) => t.attempts.map((a) => a.start_ms)).sort((a, b) => a - b);
  const ramp = starts.length >= target ? starts[target - 1]! - starts[0]! : null;
  const attempts = invocations(transfers).flatMap((t) => t.attempts);
  const firstEnd = attempts.length > 0 ? Math.min(...attempts.map((a) => a.end_ms)) - starts[0]! : null;
  const lags = attempts.flatMap((a) => (a.launch_lag_ms !== undefined ? [a.launch_lag_ms] : []));
  const ms = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  return { peak, median, target, ramp_ms: ms(ramp), first_end_ms: ms(firstEnd), launch_lag_ms: lags.length > 0 ? ms(Math.max(...lags)) : null };
}

/** The visible warning for a repeat that did not reach its concurrency, or undefined. */
export function inFlightWarning(cell: string, repeat: number, f: InFlight): string | undefined {
  if (f.peak >= IN_FLIGHT_WARN_SHARE * f.target) return undefined;
  const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
  const ramp = f.ramp_ms === null ? `fewer than ${f.target} launches` : `launch ${f.target} came ${s(f.ramp_ms)} after the first`;
  // What stopped it: the first ones ended before the last started, and who was slow to start them.
  const ended = f.ramp_ms !== null && f.first_end_ms !== null && f.first_end_ms < f.ramp_ms ? `, and the first had ended ${s(f.first_end_ms)} after it` : '';
  const by =
    f.ramp_ms === null || f.launch_lag_ms === null
      ? ''
      : f.launch_lag_ms >= f.ramp_ms / 2
        ? `; the launcher forked them up to ${s(f.launch_lag_ms)} after it was asked: this machine started them no faster`
        : `; the launcher forked each within ${s(f.launch_lag_ms)} of being asked: they were asked for over that time`;
  return `${cell} (repeat ${repeat}): at most ${f.peak} of ${f.target} transfers were in flight (median ${f.median}; ${ramp}${ended}${by}); its figures are for that concurrency, not ${f.target}`;
}
