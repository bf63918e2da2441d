import { setTimeout as sleep } from 'node:timers/promises';

/**
 * New transfers toward servers someone else runs, paced as a token bucket: at most `burst` at
 * once, then `perSecond`. Starts go in the order they asked. What it held back is counted, so a
 * cell record says how much of its ramp was the pace and not the server.
 */
export class StartPacer {
  private tokens: number;
  private last = performance.now();
  private turn: Promise<void> = Promise.resolve();
  /** Starts that had to wait, and the time they waited in all. */
  waits = 0;
  waitedMs = 0;

  constructor(
    readonly perSecond: number,
    readonly burst: number,
    /** Whose pace it is: the scenario's start_rate, or the cap on a site's server (docs/site.md). */
    readonly by: 'scenario' | 'external',
  ) {
    this.tokens = burst;
  }

  /** Resolves when the next start may go (at once when the run is interrupted). */
  take(signal?: AbortSignal): Promise<void> {
    const next = this.turn.then(async () => {
      this.refill();
      if (this.tokens < 1) this.waits++;
      // Until a whole token is there: Node's timers may fire a millisecond early by
      // performance.now(), and a start must never come sooner than the pace allows.
      while (this.tokens < 1 && !signal?.aborted) {
        const ms = ((1 - this.tokens) * 1000) / this.perSecond;
        this.waitedMs += ms;
        await sleep(ms, undefined, signal ? { signal } : {}).catch(() => undefined);
        this.refill();
      }
      this.tokens -= 1;
    });
    this.turn = next;
    return next;
  }

  private refill(): void {
    const now = performance.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) * this.perSecond) / 1000);
    this.last = now;
  }
}
