import * as z from 'zod';
import { EXECUTOR_NAMES, executorIssues, executorSections, QUEUE_EXECUTORS } from '../executors/registry.js';
import { faultIssues, faultSchema } from '../faults/registry.js';
import { pipelineIssues, pipelineSchema } from '../pipeline/pipeline-spec.js';
import { datasetSchema } from '../spec/dataset.js';
import { int, nameSchema } from '../spec/fields.js';
import { CLIENTS, hostSchema } from '../spec/host.js';
import { BACKEND_NAMES, BACKEND_REGISTRY, backendKind, hostBackendName } from '../hosts/backends.js';
import { externalIssues } from './external-rules.js';
import { linkIssues } from './link-rules.js';
import { thresholdsSchema } from '../spec/thresholds.js';
import { toolFieldIssues } from '../transfers/tool-registry.js';
import { transferSchema } from '../transfers/transfer-spec.js';


const name = nameSchema;

export const scenarioSchema = z
  .strictObject({
    name,
    description: z.string().optional(),
    backend: z.enum(BACKEND_NAMES).default('local'),
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
    executor: z.enum(EXECUTOR_NAMES).default('local'),
    /** Each executor's own section (slurm: nodes, tasks_per_node, cluster, partition), under its name. */
    ...executorSections(),
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
  out.push(...executorIssues(s as Record<string, unknown>));
  out.push(...linkIssues({ backend: s.backend, hosts }));
  out.push(...externalIssues({ backend: s.backend, hosts, ...(s.transfer && typeof s.transfer === 'object' ? { transfer: s.transfer as Record<string, unknown> } : {}), pipeline: s.pipeline }));
  if (hasPipeline) {
    if (typeof s.pipeline !== 'object' || s.pipeline === null) return out;
    const stageRoute = (path: (string | number)[], end: unknown, via: unknown) => routeIssues(path, end, via, path.at(-1) === 'stage_in' ? 'from' : 'to');
    out.push(...pipelineIssues({ hosts, dataset: s.dataset, pipeline: s.pipeline as Record<string, unknown> }, stageRoute));
    if (s.client === 'container') out.push({ path: ['client'], message: 'a pipeline runs its ranks on this machine (client: machine) for now' });
    out.push(...faultIssues({ backend: s.backend, queueExecutors: QUEUE_EXECUTORS, executor: s.executor, hosts, dataset: s.dataset, faults: s.faults }));
    return out;
  }
  if (!s.transfer || typeof s.transfer !== 'object') return out;
  const { to, via, from, direction, backoff_ms, backoff_max_ms } = s.transfer;
  // A tool's rules read the backend of the host it reaches (an external one may stand among local hosts).
  const toBackend = typeof to === 'string' && Object.hasOwn(hosts, to) ? hostBackendName(s.backend, hosts[to]) : s.backend;
  out.push(...toolFieldIssues({ client: s.client, backend: toBackend, transfer: s.transfer as Record<string, unknown> }));
  out.push(...routeIssues(['transfer'], to, via));
  if (typeof to === 'string' && to in hosts && countOf(to) > 1 && direction === 'pull') {
    out.push({ path: ['transfer', 'to'], message: `pulling spreads nothing: "${to}" has count ${countOf(to)}; pull from a single host or push` });
  }
  if (s.client === 'container') {
    if (!backendKind(s.backend).clientContainers) out.push({ path: ['client'], message: `client: container needs backend: ${Object.entries(BACKEND_REGISTRY).filter(([, k]) => 'clientContainers' in k).map(([n]) => n).join(' or ')}` });
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
  out.push(...faultIssues({ backend: s.backend, queueExecutors: QUEUE_EXECUTORS, executor: s.executor, hosts, transfer: s.transfer as Record<string, unknown>, dataset: s.dataset, faults: s.faults }));
  return out;
}

/** A validated scenario, defaults filled in. */
export type Scenario = z.infer<typeof scenarioSchema>;
