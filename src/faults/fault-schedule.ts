import { setTimeout as sleep } from 'node:timers/promises';
import type { StartedHost } from '../hosts/host.js';
import type { FaultRecord } from '../records/fault-record.js';
import type { QueueControl } from './fault-kind.js';
import type { MasterControl } from '../transfers/mux-session.js';
import { FAULT_REGISTRY, type FaultSpec } from './registry.js';

/** The longest a timer can wait (about 24.8 days): "until the transfers end". */
const MAX_TIMER_MS = 2 ** 31 - 1;

export interface FaultScheduleInput {
  cell: string;
  repeat: number;
  /** The started hosts behind a scenario host name (itself, or NAME-1..NAME-K). */
  hosts(name: string): StartedHost[];
  /** The client's masters to a scenario host (its replicas), or to every destination. */
  masters(host?: string): MasterControl[];
  /** The run's job queue, when its executor has one. */
  queue?: QueueControl;
  /** Transfers the cell repeat will start, for `at: "N%"`. */
  total: number;
  clock: () => number;
  write(record: FaultRecord): void;
}

/** The faults of one cell repeat, running alongside its transfers. */
export interface FaultSchedule extends AsyncDisposable {
  /** A transfer started: faults with `at: "N%"` count these. */
  transferStarted(): void;
  /** Cancels faults not started yet and undoes every applied one; rethrows a fault's own error. */
  stop(): Promise<void>;
}

/**
 * Starts the timers of a cell repeat's faults; call when its transfers start. Each fault is
 * applied to every replica of its host at its `at`, undone after its `for` or at stop(), whichever
 * comes first, with a fault_start and a fault_end record on the run clock; a fault whose time
 * never came gets a fault_missed record instead.
 */
export function scheduleFaults(faults: readonly FaultSpec[], input: FaultScheduleInput): FaultSchedule {
  const cancel = new AbortController();
  let started = 0;
  const waiting: { count: number; resolve: () => void }[] = [];

  const reached = (count: number) =>
    new Promise<void>((resolve, reject) => {
      if (started >= count) return resolve();
      waiting.push({ count, resolve });
      cancel.signal.addEventListener('abort', () => reject(cancel.signal.reason), { once: true });
    });

  const run = async (spec: FaultSpec, index: number, host: StartedHost | undefined) => {
    const where = host?.name ?? (FAULT_REGISTRY[spec.kind].acts === 'queue' ? 'queue' : spec.host ? `client>${spec.host}` : 'client');
    const record = (type: FaultRecord['type'], detail: string, t = input.clock()) =>
      input.write({ type, cell: input.cell, repeat: input.repeat, fault: index, kind: spec.kind, host: where, t_ms: Math.round(t * 1000) / 1000, detail });
    try {
      if ('ms' in spec.at) await sleep(spec.at.ms, undefined, { signal: cancel.signal });
      else await reached(Math.ceil(spec.at.fraction * input.total));
    } catch {
      // The transfers ended first: never applied, and the record says so.
      const when = 'ms' in spec.at ? `its time (${spec.at.ms / 1000} s after they began)` : `${Math.ceil(spec.at.fraction * input.total)} of ${input.total} had started (${spec.at.fraction * 100}%, ${started} did)`;
      record('fault_missed', `not applied: the cell's transfers ended before ${when}`);
      return;
    }
    // Its start is when applying began: what fails while it is being applied is its doing.
    const startedAt = input.clock();
    const fault = await FAULT_REGISTRY[spec.kind].apply(spec, { ...(host ? { host } : {}), masters: host ? [] : input.masters(spec.host), ...(input.queue ? { queue: input.queue } : {}) });
    record('fault_start', fault.detail, startedAt);
    // Until its `for` is up or the transfers end, whichever comes first.
    await sleep(spec.for ?? MAX_TIMER_MS, undefined, { signal: cancel.signal }).catch(() => undefined);
    await fault[Symbol.asyncDispose]();
    record('fault_end', 'undone');
  };

  // A host fault acts on every replica of its host; a client fault once.
  const tasks = faults.flatMap((spec, index) => (FAULT_REGISTRY[spec.kind].acts === 'host' ? input.hosts(spec.host!).map((host) => run(spec, index, host)) : [run(spec, index, undefined)]));
  const all = Promise.allSettled(tasks);
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      cancel.abort(new Error('cell ended'));
      const results = await all;
      const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed) throw failed.reason;
    })());
  return {
    transferStarted() {
      started++;
      for (const w of waiting.filter((x) => started >= x.count)) {
        waiting.splice(waiting.indexOf(w), 1);
        w.resolve();
      }
    },
    stop,
    [Symbol.asyncDispose]: stop,
  };
}
