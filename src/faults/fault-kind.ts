import type * as z from 'zod';
import type { StartedHost } from '../hosts/host.js';
import type { MasterControl } from '../transfers/mux-session.js';
import type { FaultAt } from '../spec/timing.js';

/** The fields every fault has: which host, when it starts, and how long it lasts (else until the cell ends). */
export interface FaultBase {
  kind: string;
  /** The host a host fault acts on; for a client fault, the destination whose masters it acts on (default all). */
  host?: string;
  at: FaultAt;
  for?: number;
}

/** The batch queue of a run's jobs (executor: slurm). */
export interface QueueControl {
  /** Cancels every job of the run the queue still holds, running or pending; resolves with how many. */
  cancelAll(): Promise<number>;
}

/** What a fault acts on: one host (a replica), the client's masters, or the run's job queue. */
export interface FaultTarget {
  host?: StartedHost;
  masters: readonly MasterControl[];
  queue?: QueueControl;
}

/** An applied fault: what was done (for its record), and how it is undone (once, on every exit path). */
export interface AppliedFault extends AsyncDisposable {
  readonly detail: string;
}

/**
 * One kind of fault: its own fields, and how it is done to a host through the host's control
 * (hosts/host.ts HostControl), never by reaching into a backend. One file per kind, registered by
 * name in faults/registry.ts.
 */
export interface FaultKind {
  /** A host's sshd (host required), the client side (its ssh masters), or the batch queue (executor: slurm). */
  readonly acts: 'host' | 'client' | 'queue';
  /** Why it needs root, if it does: refused before anything starts otherwise. */
  readonly needsRoot?: string;
  /** Fields of this kind beyond kind, host, at and for. */
  readonly fields: z.ZodRawShape;
  /** What it does, for the docs and `validate`. */
  readonly summary: string;
  /** Its own rule against the scenario's transfer (raw), as a message; undefined when it holds. */
  check?(transfer: Record<string, unknown>): string | undefined;
  /** A setting of the cell's ssh lanes it needs from the start (master_expiry), beyond what apply does. */
  lane?(spec: FaultBase & Record<string, unknown>): { controlPersistS?: number };
  apply(spec: FaultBase & Record<string, unknown>, target: FaultTarget): Promise<AppliedFault>;
}

/** The control of the host a host fault acts on, or why faults cannot act on it. */
export function controlOf(target: FaultTarget): NonNullable<StartedHost['control']> {
  const host = target.host;
  if (!host) throw new Error('internal: a host fault without its host');
  if (!host.control) throw new Error(`host "${host.name}" was not started by xferbench: faults cannot act on it`);
  return host.control;
}

/** An AppliedFault whose undo runs once, however often it is disposed. */
export function applied(detail: string, undo: () => Promise<void>): AppliedFault {
  let undone: Promise<void> | undefined;
  return { detail, [Symbol.asyncDispose]: () => (undone ??= undo()) };
}
