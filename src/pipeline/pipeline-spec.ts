import * as z from 'zod';
import { parseCompute } from './compute/registry.js';
import type { DatasetSpec } from '../spec/dataset.js';
import { attemptFields, int, MUX_MODES, nameSchema } from '../spec/fields.js';

/**
 * How a rank's files are grouped into invocations: `per-file` (one connection per file),
 * `batch:K` (rsync --files-from lists of K files, the parallel-sync pattern) or `tree` (one
 * invocation for all of the rank's files).
 */
export type Strategy = { kind: 'per-file' } | { kind: 'batch'; size: number } | { kind: 'tree' };

export const MAX_BATCH = 100_000;

export function parseStrategy(text: string): Strategy | string {
  if (text === 'per-file' || text === 'tree') return { kind: text };
  const m = /^batch:(\d{1,7})$/.exec(text);
  if (!m) return `"${text.slice(0, 40)}" is not a strategy: use per-file, tree or batch:K (K files per invocation)`;
  const size = Number(m[1]);
  if (size < 1) return 'batch:K needs K of at least 1';
  if (size > MAX_BATCH) return `batch:K takes at most ${MAX_BATCH} files`;
  return { kind: 'batch', size };
}

/** Files per invocation: 1, K, or all of the rank's. */
export const filesPerInvocation = (s: Strategy, rankFiles: number): number => (s.kind === 'per-file' ? 1 : s.kind === 'batch' ? s.size : Math.max(rankFiles, 1));

const checked = <T>(parse: (text: string) => T | string) =>
  z.string({ error: 'expected text' }).superRefine((v, ctx) => {
    const r = parse(v);
    if (typeof r === 'string') ctx.addIssue({ code: 'custom', message: r });
  });

/** Where data lands: in place, or under a temporary name renamed into place once complete (docs/pipeline.md). */
export const COMMITS = ['direct', 'temp-rename'] as const;

const stageFields = {
  tool: z.enum(['rsync'], { error: 'stage steps run rsync (per-file, batch and tree all use it)' }).default('rsync'),
  via: z.array(nameSchema).default([]),
  mux: z.enum(MUX_MODES).default('off'),
  /** Default: the pipeline's strategy. */
  strategy: checked(parseStrategy).optional(),
  commit: z.enum(COMMITS).default('direct'),
  /** temp-rename: `now` renames as each invocation ends; `defer` leaves that to `xferbench finalize`. */
  finalize: z.enum(['now', 'defer']).default('now'),
  /** Invocations in flight at once over all ranks (default: one per rank). */
  concurrency: int(1, 16_384).optional(),
  ...attemptFields,
};

export const pipelineSchema = z.strictObject({
  /** Independent staging processes, one state file each. */
  ranks: int(1, 16_384).default(4),
  /** Both stage steps' strategy unless one sets its own: a matrix axis varies them together. */
  strategy: checked(parseStrategy).default('per-file'),
  /** From `from` to each rank's worker folder. */
  stage_in: z.strictObject({ from: nameSchema, ...stageFields }).optional(),
  /** On the worker, after a successful stage-in: a builtin (compute/registry.ts). */
  compute: z.strictObject({ run: checked(parseCompute) }).optional(),
  /** From each rank's outputs to `to`, after a successful compute. */
  stage_out: z.strictObject({ to: nameSchema, ...stageFields }).optional(),
  /** afternotok: `cleanup` removes a failed rank's temporaries and partial outputs. */
  on_failure: z.enum(['none', 'cleanup']).default('none'),
});

export type PipelineSpec = z.infer<typeof pipelineSchema>;
/** What of a scenario a pipeline reads: its pipeline and its dataset. */
export interface PipelineScenario {
  pipeline?: PipelineSpec;
  dataset: DatasetSpec;
}
export type StageSpec = NonNullable<PipelineSpec['stage_in']> | NonNullable<PipelineSpec['stage_out']>;

/** A stage's strategy: its own, or the pipeline's. */
export const stageStrategy = (p: PipelineSpec, s: StageSpec): string => s.strategy ?? p.strategy;

type Issue = { path: (string | number)[]; message: string };

/** Checks between pipeline fields and the hosts; works on raw data, like crossFieldIssues. */
export function pipelineIssues(raw: { hosts: Record<string, unknown>; dataset?: unknown; pipeline: Record<string, unknown> }, routeIssues: (path: (string | number)[], end: unknown, via: unknown) => Issue[]): Issue[] {
  const p = raw.pipeline;
  const out: Issue[] = [];
  const stageIn = p.stage_in as Record<string, unknown> | undefined;
  const stageOut = p.stage_out as Record<string, unknown> | undefined;
  if (!stageIn && !stageOut) out.push({ path: ['pipeline'], message: 'a pipeline needs stage_in, stage_out or both' });
  if (stageIn && typeof stageIn === 'object') out.push(...routeIssues(['pipeline', 'stage_in'], stageIn.from, stageIn.via));
  if (stageOut && typeof stageOut === 'object') out.push(...routeIssues(['pipeline', 'stage_out'], stageOut.to, stageOut.via));
  for (const [step, key, s] of [['stage_in', 'from', stageIn], ['stage_out', 'to', stageOut]] as const) {
    const host = s && typeof s === 'object' ? s[key] : undefined;
    const count = typeof host === 'string' ? (raw.hosts[host] as { count?: unknown } | undefined)?.count : undefined;
    if (typeof count === 'number' && count > 1) out.push({ path: ['pipeline', step, key], message: `"${String(host)}" has count ${count}; a stage step's host must be a single host for now` });
  }
  for (const [step, s] of [['stage_in', stageIn], ['stage_out', stageOut]] as const) {
    if (!s || typeof s !== 'object') continue;
    if (s.finalize === 'defer' && s.commit !== 'temp-rename') out.push({ path: ['pipeline', step, 'finalize'], message: 'finalize: defer applies to commit: temp-rename' });
    if (typeof s.backoff_ms === 'number' && typeof s.backoff_max_ms === 'number' && s.backoff_max_ms < s.backoff_ms) out.push({ path: ['pipeline', step, 'backoff_max_ms'], message: 'must be at least backoff_ms' });
  }
  if (stageIn?.finalize === 'defer' && (p.compute || stageOut)) {
    out.push({ path: ['pipeline', 'stage_in', 'finalize'], message: 'a deferred stage-in leaves no inputs for the steps after it; defer only the last step' });
  }
  const ranks = typeof p.ranks === 'number' ? p.ranks : 4;
  const d = raw.dataset as { files?: unknown; layout?: unknown; ranks?: unknown } | undefined;
  if (d && typeof d.files === 'number') {
    if (d.layout === 'timestep') {
      const dataRanks = typeof d.ranks === 'number' ? d.ranks : 4;
      if (dataRanks !== ranks) out.push({ path: ['dataset', 'ranks'], message: `must equal pipeline.ranks (${ranks}): rank R stages timestep.K/data.R` });
      else if (d.files < ranks + 1) out.push({ path: ['dataset', 'files'], message: `${d.files} files leave ranks without data: a timestep holds ${ranks + 1} (timestep.K.root and one data.R per rank)` });
    } else if (d.files < ranks) {
      out.push({ path: ['dataset', 'files'], message: `${d.files} files for ${ranks} ranks: every rank needs at least one` });
    }
  }
  return out;
}
