import { cores, groupNiceOf, machineTimes, niceOf, threadTimes } from '../process/cpu-share.js';
import { LOAD, type LoadSamples } from '../records/cell-record.js';

const EVERY_MS = 250;
/** Past this many samples every other one is dropped and the interval doubles: an hour-long repeat stays small. */
const MAX_SAMPLES = 4096;

/**
 * Samples, through one repeat, who had the CPU: the whole machine (busy time, threads runnable),
 * the launcher's thread and the harness's main thread (time on a CPU, time waiting for one).
 * The report reads them over the launch ramp, to say whether a long ramp was the launcher's
 * work or a saturated machine's run queue (report/in-flight.ts).
 */
export class LoadWatch {
  private readonly samples: number[][] = [];
  private every = EVERY_MS;
  private timer?: NodeJS.Timeout;
  private readonly base: number[];
  private raw?: number[];

  private constructor(
    private readonly clock: () => number,
    private readonly launcherPid: number | undefined,
  ) {
    this.base = this.read();
    this.sample();
    this.arm();
  }

  /** Starts sampling now; undefined where /proc cannot tell (not Linux). */
  static start(clock: () => number, launcherPid: number | undefined): LoadWatch | undefined {
    return machineTimes() && threadTimes(process.pid) ? new LoadWatch(clock, launcherPid) : undefined;
  }

  private arm(): void {
    this.timer = setTimeout(() => {
      this.sample();
      this.arm();
    }, this.every).unref();
  }

  /** A row of raw readings, laid out as LOAD says (a thread gone keeps its last). */
  private read(): number[] {
    const [m, l, h] = [machineTimes(), this.launcherPid === undefined ? undefined : threadTimes(this.launcherPid), threadTimes(process.pid)];
    const prev = this.raw;
    const row: number[] = [];
    row[LOAD.t] = this.clock();
    row[LOAD.busy] = m?.busyMs ?? prev?.[LOAD.busy] ?? 0;
    row[LOAD.runnable] = m?.runnable ?? 0;
    row[LOAD.launcherCpu] = l?.cpuMs ?? prev?.[LOAD.launcherCpu] ?? 0;
    row[LOAD.launcherWait] = l?.waitMs ?? prev?.[LOAD.launcherWait] ?? 0;
    row[LOAD.harnessCpu] = h?.cpuMs ?? prev?.[LOAD.harnessCpu] ?? 0;
    row[LOAD.harnessWait] = h?.waitMs ?? prev?.[LOAD.harnessWait] ?? 0;
    return (this.raw = row);
  }

  private sample(): void {
    const round = (v: number) => Math.round(v * 10) / 10;
    // Times as deltas from the start; the clock and the runnable count as they are.
    this.samples.push(this.read().map((v, i) => round(i === LOAD.t || i === LOAD.runnable ? v : v - this.base[i]!)));
    if (this.samples.length >= MAX_SAMPLES) {
      const kept = this.samples.filter((_, i) => i % 2 === 0);
      this.samples.splice(0, this.samples.length, ...kept);
      this.every *= 2;
    }
  }

  /** The last sample, and what the cell record keeps. Idempotent. */
  stop(): LoadSamples {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
      this.sample();
    }
    const [nice, group] = this.launcherPid === undefined ? [] : [niceOf(this.launcherPid), groupNiceOf(this.launcherPid)];
    return { cores: cores(), launcher: this.launcherPid !== undefined, ...(nice !== undefined ? { launcher_nice: nice } : {}), ...(group !== undefined ? { launcher_group_nice: group } : {}), samples: this.samples.map((s) => [...s]) };
  }
}
