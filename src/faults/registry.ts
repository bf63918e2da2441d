import * as z from 'zod';
import type { FaultBase, FaultKind } from './fault-kind.js';
import { bandwidth } from './bandwidth.js';
import { diskFull } from './disk-full.js';
import { killMaster } from './kill-master.js';
import { killSshd } from './kill-sshd.js';
import { masterExpiry } from './master-expiry.js';
import { pauseSshd } from './pause-sshd.js';
import { queueLoss } from './queue-loss.js';
import { reset } from './reset.js';
import { revokeKey } from './revoke-key.js';
import { atSchema, durationSchema } from '../spec/timing.js';
import { parseDuration } from '../util/duration.js';
import { NAME_PATTERN, type FieldIssue } from '../spec/fields.js';
import { backendKind, backendName, hostBackendName } from '../hosts/backends.js';

/** Every fault kind by name: a new kind is a file of its own and a line here. */
export const FAULT_REGISTRY = {
  kill_sshd: killSshd,
  kill_master: killMaster,
  master_expiry: masterExpiry,
  disk_full: diskFull,
  bandwidth,
  reset,
  pause_sshd: pauseSshd,
  revoke_key: revokeKey,
  queue_loss: queueLoss,
} satisfies Record<string, FaultKind>;

export type FaultKindName = keyof typeof FAULT_REGISTRY;
export const FAULT_KINDS = Object.keys(FAULT_REGISTRY) as [FaultKindName, ...FaultKindName[]];

const hostName = z.string().regex(NAME_PATTERN, 'a host name of this scenario');

/** One fault as a scenario writes it: the common fields and its kind's own. */
export const faultSchema: z.ZodType<FaultSpec> = z.discriminatedUnion(
  'kind',
  FAULT_KINDS.map((kind) =>
    z.strictObject({
      kind: z.literal(kind),
      host: hostName.optional(),
      /** A time after the cell's transfers began ("2s") or a share of them started ("30%"). */
      at: atSchema.default({ ms: 0 }),
      /** How long it lasts; without it, until the cell's transfers end. */
      for: durationSchema.optional(),
      ...FAULT_REGISTRY[kind].fields,
    }),
  ) as unknown as [z.ZodObject, ...z.ZodObject[]],
  { error: (i) => (i.code === 'invalid_union' ? `kind must be one of ${FAULT_KINDS.join(', ')}` : undefined) },
) as unknown as z.ZodType<FaultSpec>;

/** A fault as validated: the common fields, its kind, and the kind's own fields. */
export type FaultSpec = FaultBase & { kind: FaultKindName } & Record<string, unknown>;

/**
 * Faults against the rest of a raw scenario: the host must be one of its hosts, and `at` must
 * fall within the longest a cell could run (every file at the transfer timeout, every retry).
 */
export function faultIssues(raw: { backend?: unknown; executor?: unknown; queueExecutors: readonly string[]; hosts: Record<string, unknown>; transfer?: Record<string, unknown>; dataset?: unknown; faults?: unknown }): FieldIssue[] {
  if (!Array.isArray(raw.faults)) return [];
  const num = (v: unknown, fallback: number) => (typeof v === 'number' && v > 0 ? v : fallback);
  const files = num((raw.dataset as { files?: unknown } | undefined)?.files, 1);
  const t = raw.transfer ?? {};
  const longestMs = Math.ceil(files / num(t.concurrency, 10)) * (num(t.retries, 0) + 1) * num(t.timeout_s, 300) * 1000;
  const out: FieldIssue[] = [];
  raw.faults.forEach((f: unknown, i) => {
    if (!f || typeof f !== 'object') return;
    const { kind, host, at } = f as { kind?: unknown; host?: unknown; at?: unknown };
    const acts = typeof kind === 'string' && Object.hasOwn(FAULT_REGISTRY, kind) ? FAULT_REGISTRY[kind as FaultKindName].acts : undefined;
    const own = typeof kind === 'string' && Object.hasOwn(FAULT_REGISTRY, kind) ? (FAULT_REGISTRY[kind as FaultKindName] as FaultKind) : undefined;
    if (own?.needsRoot && process.getuid?.() !== 0) out.push({ path: ['faults', i, 'kind'], message: `${String(kind)} needs root: ${own.needsRoot}` });
    // The job queue is a pipeline's on Slurm; hosts and masters are a transfer scenario's for now.
    if (acts === 'queue' && (raw.transfer || !raw.queueExecutors.includes(String(raw.executor)))) out.push({ path: ['faults', i, 'kind'], message: `${String(kind)} cancels a pipeline's Slurm jobs: it needs pipeline: and executor: ${raw.queueExecutors.join(' or ')}` });
    else if (acts && acts !== 'queue' && !raw.transfer) out.push({ path: ['faults', i, 'kind'], message: `${String(kind)}: a pipeline takes queue faults (queue_loss) only, not yet faults on its steps' hosts` });
    if (acts === 'queue' && host !== undefined) out.push({ path: ['faults', i, 'host'], message: `${String(kind)} acts on the job queue, not on a host` });
    const broken = raw.transfer ? own?.check?.(raw.transfer) : undefined;
    if (broken) out.push({ path: ['faults', i, 'kind'], message: broken });
    // The backend of the host it acts on: an external host may stand among local ones.
    const backend = typeof host === 'string' && Object.hasOwn(raw.hosts, host) ? hostBackendName(raw.backend, raw.hosts[host]) : backendName(raw.backend);
    const { faultsNeedRoot: needsRoot, unobserved } = backendKind(backend);
    if (acts === 'host' && unobserved && typeof host === 'string') out.push({ path: ['faults', i, 'host'], message: `${String(kind)} needs the server of host "${host}": ${unobserved}` });
    else if (own && needsRoot && process.getuid?.() !== 0) out.push({ path: ['faults', i, 'kind'], message: `${String(kind)} on backend: ${backend} needs root: ${needsRoot}` });
    if (acts === 'host' && host === undefined) out.push({ path: ['faults', i, 'host'], message: `${String(kind)} acts on a host: name it (one of ${Object.keys(raw.hosts).join(', ')})` });
    if (typeof host === 'string' && !Object.hasOwn(raw.hosts, host)) out.push({ path: ['faults', i, 'host'], message: `host "${host}" is not defined under hosts (defined: ${Object.keys(raw.hosts).join(', ')})` });
    // Raw ("2s") or already parsed ({ ms }): this runs on both.
    const ms = typeof at === 'string' ? parseDuration(at) : (at as { ms?: unknown } | undefined)?.ms;
    if (raw.transfer && typeof ms === 'number' && ms >= longestMs) out.push({ path: ['faults', i, 'at'], message: `${ms / 1000} s after the transfers start is beyond the run: a cell ends within ${longestMs / 1000} s (files / concurrency × attempts × timeout_s)` });
  });
  return out;
}

/** The lane settings a cell's faults need from its start (master_expiry's ControlPersist). */
export function laneSettings(faults: readonly FaultSpec[]): { controlPersistS?: number } {
  return Object.assign({}, ...faults.map((f) => (FAULT_REGISTRY[f.kind] as FaultKind).lane?.(f) ?? {}));
}
