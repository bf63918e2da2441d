import type { TransferRecord } from '../records/transfer-record.js';
import { LOAD, type LoadSamples } from '../records/cell-record.js';

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
  /** ms from the first launch to when the harness asked for the target-th (null: no launcher, or no ramp). */
  asked_ms: number | null;
  /** Who had the CPU while the launches ramped up (null: no load readings, or fewer launches than the target). */
  ramp_load: RampLoad | null;
}

/** The machine over the ramp, from the cell's load readings (cells/load-watch.ts). */
export interface RampLoad {
  cores: number;
  /** Share of all cores busy, 0–1. */
  busy: number;
  runnable_mean: number;
  runnable_max: number;
  /** The launcher's thread on a CPU and runnable but waiting for one (null: no launcher). */
  launcher_cpu_ms: number | null;
  launcher_wait_ms: number | null;
  /** The launcher's CPU per launch over the whole repeat. */
  launcher_cpu_per_launch_ms: number | null;
  /** Its nice value (-20: raised above the transfers'; null: not known), and its session's under autogroup (null: none). */
  launcher_nice: number | null;
  launcher_group_nice: number | null;
  /** The harness's main thread waiting for a CPU (it asks for the launches). */
  harness_wait_ms: number;
}

const { t: T, busy: BUSY, runnable: RUNNABLE, launcherCpu: L_CPU, launcherWait: L_WAIT, harnessWait: H_WAIT } = LOAD;

/** A cumulative reading at time t, interpolated between the samples around it. */
function readingAt(samples: readonly number[][], column: number, t: number): number {
  const after = samples.findIndex((s) => s[T]! >= t);
  if (after <= 0) return samples[after === 0 ? 0 : samples.length - 1]![column]!;
  const [a, b] = [samples[after - 1]!, samples[after]!];
  const f = b[T]! > a[T]! ? (t - a[T]!) / (b[T]! - a[T]!) : 1;
  return a[column]! + f * (b[column]! - a[column]!);
}

/** The load readings over [from, to] ms of the run clock; `launches` made by the launcher in the repeat. */
function rampLoad(load: LoadSamples, from: number, to: number, launches: number): RampLoad | null {
  const s = load.samples;
  if (s.length < 2) return null;
  const over = (column: number) => readingAt(s, column, to) - readingAt(s, column, from);
  const inside = s.filter((x) => x[T]! >= from && x[T]! <= to).map((x) => x[RUNNABLE]!);
  const runnable = inside.length > 0 ? inside : [readingAt(s, RUNNABLE, to)];
  const r1 = (v: number) => Math.round(v * 10) / 10;
  const span = Math.max(to - from, 1e-3);
  const whole = s.at(-1)!;
  return {
    cores: load.cores,
    busy: Math.min(1, Math.round((over(BUSY) / (span * load.cores)) * 100) / 100),
    runnable_mean: r1(runnable.reduce((a, b) => a + b, 0) / runnable.length),
    runnable_max: Math.round(Math.max(...runnable)),
    launcher_cpu_ms: load.launcher ? r1(over(L_CPU)) : null,
    launcher_wait_ms: load.launcher ? r1(over(L_WAIT)) : null,
    launcher_cpu_per_launch_ms: load.launcher && launches > 0 ? Math.round((whole[L_CPU]! / launches) * 1000) / 1000 : null,
    launcher_nice: load.launcher_nice ?? null,
    launcher_group_nice: load.launcher_group_nice ?? null,
    harness_wait_ms: r1(over(H_WAIT)),
  };
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

export function inFlight(transfers: readonly TransferRecord[], concurrency: number, load?: LoadSamples): InFlight {
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
  // When the harness asked for each of the ramp's launches: its fork less its wait in the launcher.
  const ramped = [...attempts].sort((a, b) => a.start_ms - b.start_ms).slice(0, target);
  const asked = ramp !== null && ramped.every((a) => a.launch_lag_ms !== undefined) ? Math.max(...ramped.map((a) => a.start_ms - a.launch_lag_ms!)) - starts[0]! : null;
  const ms = (v: number | null) => (v === null ? null : Math.round(v * 1000) / 1000);
  return {
    peak, median, target, ramp_ms: ms(ramp), first_end_ms: ms(firstEnd), launch_lag_ms: lags.length > 0 ? ms(Math.max(...lags)) : null, asked_ms: ms(asked),
    ramp_load: load && ramp !== null ? rampLoad(load, starts[0]!, starts[target - 1]!, lags.length) : null,
  };
}

/** A ramp this long is worth a word even when the concurrency was reached: the handshakes were spread over it. */
export const LONG_RAMP_MS = 1000;

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/**
 * Why the launches took as long as they did, from its three parts: the harness asking for them
 * over time, the launcher's own work, and the launcher waiting for a CPU (the run queue).
 */
function rampCause(f: InFlight): string | undefined {
  const l = f.ramp_load;
  if (!l || l.launcher_cpu_ms === null || l.launcher_wait_ms === null) return undefined;
  const per = l.launcher_cpu_per_launch_ms === null ? '' : ` (${l.launcher_cpu_per_launch_ms.toFixed(2)} ms per launch over the repeat)`;
  const parts = [
    { ms: f.asked_ms ?? 0, says: `the harness asking for them (the last ${s(f.asked_ms ?? 0)} after the first launch; its main thread waited ${s(l.harness_wait_ms)} for a CPU)` },
    { ms: l.launcher_cpu_ms, says: "the launcher's own work" },
    { ms: l.launcher_wait_ms, says: "this machine's run queue, not the launcher's work" },
  ];
  const verdict = `the ramp was mostly ${parts.reduce((a, b) => (b.ms > a.ms ? b : a)).says}`;
  const group = l.launcher_group_nice === null ? '' : `, its session's ${l.launcher_group_nice}`;
  const nice = l.launcher_nice === null ? '' : ` (at nice ${l.launcher_nice}${group}${l.launcher_nice >= 0 ? ': it could not raise its priority without CAP_SYS_NICE' : ''})`;
  return `over the ramp the launcher${nice} was on a CPU for ${s(l.launcher_cpu_ms)}${per} and waited ${s(l.launcher_wait_ms)} for one, with the machine ${Math.round(l.busy * 100)} % busy and up to ${l.runnable_max} threads runnable on ${l.cores} cores: ${verdict}`;
}

/** The visible warning for a repeat that did not reach its concurrency, or that took long to launch; else undefined. */
export function inFlightWarning(cell: string, repeat: number, f: InFlight): string | undefined {
  const cause = rampCause(f);
  if (f.peak >= IN_FLIGHT_WARN_SHARE * f.target) {
    if (f.ramp_ms === null || f.ramp_ms < LONG_RAMP_MS || !cause) return undefined;
    return `${cell} (repeat ${repeat}): ${f.peak} of ${f.target} transfers were in flight at once, but launch ${f.target} came ${s(f.ramp_ms)} after the first, so their handshakes were spread over that time; ${cause}`;
  }
  const ramp = f.ramp_ms === null ? `fewer than ${f.target} launches` : `launch ${f.target} came ${s(f.ramp_ms)} after the first`;
  // What stopped it: the first ones ended before the last started, and who was slow to start them.
  const ended = f.ramp_ms !== null && f.first_end_ms !== null && f.first_end_ms < f.ramp_ms ? `, and the first had ended ${s(f.first_end_ms)} after it` : '';
  const by =
    f.ramp_ms === null || f.launch_lag_ms === null
      ? ''
      : f.launch_lag_ms >= f.ramp_ms / 2
        ? `; the launcher forked them up to ${s(f.launch_lag_ms)} after it was asked: this machine started them no faster`
        : `; the launcher forked each within ${s(f.launch_lag_ms)} of being asked: they were asked for over that time`;
  return `${cell} (repeat ${repeat}): at most ${f.peak} of ${f.target} transfers were in flight (median ${f.median}; ${ramp}${ended}${by}${cause ? `; ${cause}` : ''}); its figures are for that concurrency, not ${f.target}`;
}
