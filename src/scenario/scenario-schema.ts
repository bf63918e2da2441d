import { z } from 'zod';
import { faultIssues, faultSchema } from '../faults/registry.js';
import { pipelineIssues, pipelineSchema } from '../pipeline/pipeline-spec.js';
import { datasetSchema } from '../spec/dataset.js';
import { int, nameSchema } from '../spec/fields.js';
import { BACKENDS, CLIENTS, hostSchema } from '../spec/host.js';
import { thresholdsSchema } from '../spec/thresholds.js';
import { toolFieldIssues } from '../transfers/tool-registry.js';
import { transferSchema } from '../transfers/transfer-spec.js';

export const EXECUTORS = ['local', 'slurm'] as const;
/** Tools a Slurm task can run: command-line tools, one file per invocation. */
const SLURM_TOOLS: readonly string[] = ['rsync', 'scp', 'sftp', 'cp'];

const name = nameSchema;

export const scenarioSchema = z
  .strictObject({
    name,
    description: z.string().optional(),
    backend: z.enum(BACKENDS).default('local'),
    /** Where transfers are launched: this machine, or (container backend) inside transfer.from. */
    client: z.enum(CLIENTS).default('machine'),
    hosts: z.record(name, hostSchema).refine((h) => Object.keys(h).length > 0, 'define at least one host'),
    dataset: datasetSchema,
    /** One transfer per file, or (pipeline) stage-in → compute → stage-out per rank: exactly one of the two. */
    transfer: transferSchema.optional(),
    pipeline: pipelineSchema.optional(),
    matrix: z.record(z.string(), z.array(z.unknown()).min(1, 'a matrix axis needs at least one value')).default({}),
    repeat: int(1, 1000).default(1),
    thresholds: thresholdsSchema,
    /** Where transfers are launched: this process, or fanned out over a Slurm cluster's nodes (docs/slurm.md). */
    executor: z.enum(EXECUTORS).default('local'),
    /** executor: slurm — nodes of the run's private cluster and tasks on each; the cell's transfers are dealt to the tasks. */
    slurm: z
      .strictObject({
        nodes: int(1, 4096).default(3),
        tasks_per_node: int(1, 256).default(1),
        /** private: a cluster started for the run; existing: the one SLURM_CONF names (docs/slurm.md). */
        cluster: z.enum(['private', 'existing']).default('private'),
        /** existing: the partition to run in (default: the cluster's default). */
        partition: nameSchema.optional(),
      })
      .optional(),
    /** Faults injected during every cell repeat (faults/registry.ts); a matrix axis may vary them. */
    faults: z.array(faultSchema).max(32, 'at most 32 faults').default([]),
  })
  .superRefine((s, ctx) => {
    for (const issue of crossFieldIssues(s)) ctx.addIssue({ code: 'custom', ...issue });
  });

/**
 * Checks between fields (hosts named by the transfer exist...). Works on raw data too, so the
 * loader reports these together with every other problem instead of after they are fixed.
 */
export function crossFieldIssues(raw: unknown): { path: (string | number)[]; message: string }[] {
  const s = raw as {
    backend?: unknown;
    executor?: unknown;
    client?: unknown;
    hosts?: unknown;
    dataset?: unknown;
    faults?: unknown;
    transfer?: { to?: unknown; via?: unknown; from?: unknown; direction?: unknown; backoff_ms?: unknown; backoff_max_ms?: unknown };
    pipeline?: unknown;
  };
  if (!s || typeof s !== 'object') return [];
  const hasPipeline = s.pipeline !== undefined;
  if (s.transfer !== undefined && hasPipeline) return [{ path: ['pipeline'], message: 'a scenario has either transfer (one transfer per file) or pipeline (staging per rank), not both' }];
  if (s.transfer === undefined && !hasPipeline) return [{ path: ['transfer'], message: 'is required (or pipeline: for a staging pipeline)' }];
  if (!s.hosts || typeof s.hosts !== 'object') return [];
  const hosts = s.hosts as Record<string, unknown>;
  const list = Object.keys(hosts).join(', ');
  const out: { path: (string | number)[]; message: string }[] = [];
  const countOf = (h: string) => {
    const c = (hosts[h] as { count?: unknown } | undefined)?.count;
    return typeof c === 'number' ? c : 1;
  };
  for (const h of Object.keys(hosts)) {
    const m = /^(.*)-(\d+)$/.exec(h);
    if (m && Object.hasOwn(hosts, m[1]!) && Number(m[2]) <= countOf(m[1]!)) {
      out.push({ path: ['hosts', h], message: `"${h}" is also the name of a replica of "${m[1]}" (count ${countOf(m[1]!)}); rename one` });
    }
  }
  /** The far end of a route (`to`, or a stage's `from`) and its jump hosts, at `path`. */
  const routeIssues = (path: (string | number)[], end: unknown, via: unknown, endKey = 'to') => {
    const found: { path: (string | number)[]; message: string }[] = [];
    if (typeof end === 'string' && !Object.hasOwn(hosts, end)) found.push({ path: [...path, endKey], message: `host "${end}" is not defined under hosts (defined: ${list})` });
    if (!Array.isArray(via)) return found;
    via.forEach((v, i) => {
      if (typeof v !== 'string') return;
      if (!Object.hasOwn(hosts, v)) found.push({ path: [...path, 'via', i], message: `jump host "${v}" is not defined under hosts (defined: ${list})` });
      else if (v === end) found.push({ path: [...path, 'via', i], message: `"${v}" is the ${endKey === 'to' ? 'destination' : 'source'} itself and cannot also be a jump host` });
      else if (countOf(v) > 1) found.push({ path: [...path, 'via', i], message: `jump host "${v}" has count ${countOf(v)}; a jump host must be a single host` });
    });
    if (new Set(via).size !== via.length) found.push({ path: [...path, 'via'], message: 'a jump host may appear only once (the route would loop)' });
    return found;
  };
  if (s.executor === 'slurm') {
    const t = s.transfer as { tool?: unknown; unit?: unknown } | undefined;
    if (!hasPipeline && t && !SLURM_TOOLS.includes(typeof t.tool === 'string' ? t.tool : 'rsync')) out.push({ path: ['transfer', 'tool'], message: `executor: slurm runs ${SLURM_TOOLS.join(', ')}` });
    if (s.client === 'container') out.push({ path: ['client'], message: 'executor: slurm launches from the cluster\'s nodes; client: container does not apply' });
    if (!hasPipeline && Array.isArray(s.faults) && s.faults.length > 0) out.push({ path: ['faults'], message: 'faults are applied as this process launches transfers; with executor: slurm the nodes launch them' });
    const sl = (s as { slurm?: { nodes?: unknown; cluster?: unknown; partition?: unknown } }).slurm;
    if (sl && sl.cluster !== 'existing' && typeof sl.nodes === 'number' && sl.nodes > 16) out.push({ path: ['slurm', 'nodes'], message: 'the private cluster runs at most 16 nodes on this machine; use cluster: existing for more' });
    if (sl && sl.cluster !== 'existing' && sl.partition !== undefined) out.push({ path: ['slurm', 'partition'], message: 'partition applies to cluster: existing' });
  } else if ((s as { slurm?: unknown }).slurm !== undefined) {
    out.push({ path: ['slurm'], message: 'slurm settings apply with executor: slurm' });
  }
  if (hasPipeline) {
    if (typeof s.pipeline !== 'object' || s.pipeline === null) return out;
    const stageRoute = (path: (string | number)[], end: unknown, via: unknown) => routeIssues(path, end, via, path.at(-1) === 'stage_in' ? 'from' : 'to');
    out.push(...pipelineIssues({ hosts, dataset: s.dataset, pipeline: s.pipeline as Record<string, unknown> }, stageRoute));
    if (s.client === 'container') out.push({ path: ['client'], message: 'a pipeline runs its ranks on this machine (client: machine) for now' });
    out.push(...faultIssues({ backend: s.backend, executor: s.executor, hosts, dataset: s.dataset, faults: s.faults }));
    return out;
  }
  if (!s.transfer || typeof s.transfer !== 'object') return out;
  const { to, via, from, direction, backoff_ms, backoff_max_ms } = s.transfer;
  out.push(...toolFieldIssues({ client: s.client, backend: s.backend, transfer: s.transfer as Record<string, unknown> }));
  out.push(...routeIssues(['transfer'], to, via));
  if (typeof to === 'string' && to in hosts && countOf(to) > 1 && direction === 'pull') {
    out.push({ path: ['transfer', 'to'], message: `pulling spreads nothing: "${to}" has count ${countOf(to)}; pull from a single host or push` });
  }
  if (s.client === 'container') {
    if (s.backend !== 'container') out.push({ path: ['client'], message: 'client: container needs backend: container' });
    if (typeof from !== 'string') out.push({ path: ['transfer', 'from'], message: 'client: container needs transfer.from: the host (worker container) transfers are launched in' });
  }
  if (typeof from === 'string') {
    if (s.client !== 'container') out.push({ path: ['transfer', 'from'], message: 'transfer.from applies only with client: container' });
    if (!Object.hasOwn(hosts, from)) out.push({ path: ['transfer', 'from'], message: `host "${from}" is not defined under hosts (defined: ${list})` });
    else if (from === to || (Array.isArray(via) && via.includes(from))) out.push({ path: ['transfer', 'from'], message: `"${from}" is already the destination or a jump host` });
  }
  if (typeof backoff_ms === 'number' && typeof backoff_max_ms === 'number' && backoff_max_ms < backoff_ms) {
    out.push({ path: ['transfer', 'backoff_max_ms'], message: 'must be at least backoff_ms' });
  }
  out.push(...faultIssues({ backend: s.backend, executor: s.executor, hosts, transfer: s.transfer as Record<string, unknown>, dataset: s.dataset, faults: s.faults }));
  return out;
}

/** A validated scenario, defaults filled in. */
export type Scenario = z.infer<typeof scenarioSchema>;
