import * as z from 'zod';
import { FAILURE_CLASSES } from './transfer-record.js';
import { type ResultRecord } from './result-record.js';
import { STEP_NAMES, type StepRecord } from './pipeline-records.js';

/**
 * The records of results.jsonl as schemas, for reading a report folder from elsewhere: a record
 * of the wrong shape is refused with its file and line instead of failing deep in a report.
 * Each schema is checked against the interface its writer uses (the `Same` checks below), so the
 * two cannot drift apart.
 */

const num = z.number().finite();
const int = z.number().int();
const text = z.string().max(1 << 20);
const failureClass = z.enum(FAILURE_CLASSES);

const endpoint = z.object({ address: text, port: int });

const attempt = z.object({
  attempt: int,
  start_ms: num,
  end_ms: num,
  exit_code: int.nullable(),
  signal: text.nullable(),
  timed_out: z.boolean(),
  classes: z.array(failureClass),
  failure_class: failureClass.nullable(),
  stderr_tail: text,
  setup_ms: num.optional(),
  launch_lag_ms: num.optional(),
  connections: z.array(z.object({ local: endpoint, remote: endpoint })).optional(),
  reclassified: z.object({ from: failureClass, reason: text }).optional(),
});

const transfer = z.object({
  type: z.literal('transfer'),
  cell: text,
  repeat: int,
  file: text,
  bytes: num,
  status: z.enum(['ok', 'recovered', 'failed', 'canceled']),
  start_ms: num,
  end_ms: num,
  attempts: z.array(attempt),
  failure_class: failureClass.nullable(),
  classes: z.array(failureClass),
  first_failure_class: failureClass.nullable(),
  batch: text.optional(),
  node: text.optional(),
  task: int.optional(),
  rank: int.optional(),
  step: z.enum(STEP_NAMES).optional(),
});

const verification = z.object({
  type: z.literal('verification'),
  cell: text,
  repeat: int,
  counts: z.object({ ok: int, missing: int, corrupt: int, extra: int }),
  problems: z.array(z.object({ path: text, verdict: z.enum(['missing', 'corrupt', 'extra']), expected_size: num.optional(), actual_size: num.optional() })),
  silent_drops: z.array(text),
});

const counters = z.object({ maxstartups_drops: int, penalty_drops: int, throttling_periods: int, sessions_refused: int, accepted_logins: int, connections: int });

const cell = z.object({
  type: z.literal('cell'),
  cell: text,
  cell_index: int,
  values: z.record(z.string(), z.unknown()),
  repeat: int,
  concurrency: int.optional(),
  start_ms: num,
  end_ms: num,
  files: int,
  bytes_ok: num,
  ok: int,
  failed: int,
  recovered: int,
  canceled: int,
  silent_drops: int,
  sshd: z.record(z.string(), counters),
  sshd_events: z.array(z.object({ t: num, kind: z.enum(['throttle_begin', 'throttle_end', 'drop', 'penalty_drop', 'session_refused']), line: text, peer: endpoint.optional(), host: text })),
  mux: z.object({ mode: text, master_ok: z.boolean().optional(), master_error: text.optional() }),
  sshd_unobserved: z.array(text).optional(),
  paced: z.object({ per_s: num, burst: int, by: z.enum(['scenario', 'external']).optional(), waits: int, waited_ms: num }).optional(),
  links: z.record(text, z.object({ rtt_ms: num, jitter_ms: num, rate: num.optional() })).optional(),
  drops: z
    .object({
      hosts: z.record(z.string(), z.object({ sshd: int, client: int, by_port: int, by_count: int, classed_otherwise: int, not_transfers: int })),
      reclassified: int,
      unchecked: int,
    })
    .optional(),
  listen_overflows: int.optional(),
  load: z.object({ cores: int, launcher: z.boolean(), launcher_nice: int.optional(), launcher_group_nice: int.optional(), samples: z.array(z.array(num).length(7)).max(4096) }).optional(),
});

const runStart = z.object({
  type: z.literal('run_start'),
  name: text,
  started_at: text,
  scenario: z.unknown(),
  plan: z.object({ cells: z.array(z.object({ index: int, id: text, values: z.record(z.string(), z.unknown()) })), repeat: int, total_transfers: int }),
  environment: z.record(z.string(), z.string()),
});

const fault = z.object({ type: z.enum(['fault_start', 'fault_end', 'fault_missed']), cell: text, repeat: int, fault: int, kind: text, host: text, t_ms: num, detail: text });

const runEnd = z.object({ type: z.literal('run_end'), ended_at: text, outcome: z.enum(['completed', 'aborted', 'error']), error: text.optional() });

/** A step record's fields; a rank's state file keeps them without type, cell, repeat and rank. */
export const stepFields = {
  step: z.enum(STEP_NAMES),
  status: z.enum(['ok', 'failed', 'skipped']),
  start_ms: num,
  end_ms: num,
  files: int,
  bytes: num,
  invocations: int.optional(),
  failure_class: text.optional(),
  waited_on: z.enum(STEP_NAMES).optional(),
  reason: text.optional(),
  job_id: text.optional(),
  node: text.optional(),
  dependency: text.optional(),
};
const step = z.object({ type: z.literal('step'), cell: text, repeat: int, rank: int, ...stepFields });

const invariants = z.object({
  type: z.literal('invariants'),
  cell: text,
  repeat: int,
  ranks: z.object({ ok: int, failed: int, cleaned: int }),
  pending_finalize: int,
  violations: z.array(z.object({ invariant: z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]), path: text, detail: text })),
});

const runResume = z.object({ type: z.literal('run_resume'), resumed_at: text, completed: int });

export const resultRecordSchema = z.discriminatedUnion('type', [runStart, transfer, verification, cell, fault, runEnd, step, invariants, runResume]);

// Compile-time: each schema reads exactly the record its writer writes.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const same = <T extends true>(_: T) => undefined;
same<Same<z.infer<typeof resultRecordSchema>, ResultRecord>>(true);
same<Same<z.infer<typeof step>, StepRecord>>(true);
