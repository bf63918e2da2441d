import { constants } from 'node:os';

export const GUARDED_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * What SIGINT, SIGTERM and SIGHUP do to a command, at any moment:
 * - Until the scenario is loaded nothing exists to clean up, so no handler is installed and the
 *   signal's default action ends the process at once (even inside a long synchronous check).
 * - From then on the first signal aborts: transfers, masters and hosts are stopped, the partial
 *   report is written. A second one says cleanup is still running; a third ends it at once.
 * - Either way the process ends killed by that same signal, so its parent sees the same status
 *   whenever the signal came: a shell reports 130 (SIGINT), 143 (SIGTERM) or 129 (SIGHUP).
 */
export class SignalGuard implements Disposable {
  readonly controller = new AbortController();
  received: NodeJS.Signals | undefined;
  private count = 0;
  private readonly onSignal = (sig: NodeJS.Signals) => {
    this.received ??= sig;
    this.count++;
    if (this.count === 1) {
      process.stderr.write(`\n${sig}: stopping transfers, ssh masters and sshd hosts...\n`);
      this.controller.abort(new Error(sig));
    } else if (this.count === 2) {
      process.stderr.write(`${sig} again: still cleaning up; a third signal exits at once and may leave processes behind\n`);
    } else {
      this.end();
    }
  };

  constructor() {
    for (const sig of GUARDED_SIGNALS) process.on(sig, this.onSignal);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  [Symbol.dispose](): void {
    for (const sig of GUARDED_SIGNALS) process.off(sig, this.onSignal);
  }

  /** After cleanup: if a signal came, end the process with it (its default action); else return. */
  end(): void {
    if (!this.received) return;
    // Dying by a signal skips 'exit' handlers (the private engine service ends in one): run them.
    process.emit('exit', 128 + constants.signals[this.received]);
    // Libraries' own listeners (a progress bar's, signal-exit's) had the first delivery; left in
    // place they would swallow this one and the process would exit with a code instead.
    for (const sig of GUARDED_SIGNALS) process.removeAllListeners(sig);
    process.kill(process.pid, this.received);
  }
}
