import type { z } from 'zod';
import type { StartedHost } from '../hosts/host.js';
import type { FaultAt } from './timing.js';

/** The fields every fault has: which host, when it starts, and how long it lasts (else until the cell ends). */
export interface FaultBase {
  kind: string;
  host: string;
  at: FaultAt;
  for?: number;
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
  /** Fields of this kind beyond kind, host, at and for. */
  readonly fields: z.ZodRawShape;
  /** What it does, for the docs and `validate`. */
  readonly summary: string;
  apply(spec: FaultBase & Record<string, unknown>, host: StartedHost): Promise<AppliedFault>;
}

/** The host's control, or why faults cannot act on it. */
export function controlOf(host: StartedHost): NonNullable<StartedHost['control']> {
  if (!host.control) throw new Error(`host "${host.name}" was not started by xferbench: faults cannot act on it`);
  return host.control;
}

/** An AppliedFault whose undo runs once, however often it is disposed. */
export function applied(detail: string, undo: () => Promise<void>): AppliedFault {
  let undone: Promise<void> | undefined;
  return { detail, [Symbol.asyncDispose]: () => (undone ??= undo()) };
}
