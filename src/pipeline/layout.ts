import { createHash } from 'node:crypto';
import { join, resolve } from 'node:path';
import { fileContent, planDataset, sha256Of, type DatasetEntry, type DatasetPlan, type ManifestEntry } from '../dataset/dataset.js';
import { parseCompute } from './compute/registry.js';
import type { DatasetSpec } from '../spec/dataset.js';
import type { ComputeSpec } from './compute/registry.js';
import type { PipelineScenario } from './pipeline-spec.js';

/** Where a report keeps its pipelines' data, state files and temporaries (docs/pipeline.md). */
export const STAGING_DIR = 'staging';
/** The temporary folder of temp-rename commits, inside the destination (same file system: rename is atomic). */
export const PARTIAL_DIR = '.xb-partial';

/**
 * The folders of one cell repeat, all on this machine (a container host mounts them at the same
 * path): hosts/<name>/inputs and outputs, workers/rank-R/{in,out}, and state/rank-R.json.
 * They live in the report folder, not the run's state folder, so a run killed mid-way can be
 * resumed and finalized from its report.
 */
export function stagingPaths(reportDir: string, cellIndex: number, repeat: number) {
  const root = join(resolve(reportDir), STAGING_DIR, `c${cellIndex}r${repeat}`);
  return {
    root,
    state: join(root, 'state'),
    inputs: (host: string) => join(root, 'hosts', host, 'inputs'),
    outputs: (host: string) => join(root, 'hosts', host, 'outputs'),
    worker: (rank: number) => {
      const dir = join(root, 'workers', `rank-${rank}`);
      // The compute log is kept with the state files: cleanup and data removal leave it.
      return { dir, in: join(dir, 'in'), out: join(dir, 'out'), computeLog: join(root, 'state', `rank-${rank}.compute.log`) };
    },
    // One temporary tree per destination, shared by the ranks (their paths differ): no folder per
    // rank, which on a parallel file system would cost a create and a remove each.
    temp: (destRoot: string) => join(destRoot, PARTIAL_DIR),
  };
}
export type StagingPaths = ReturnType<typeof stagingPaths>;

/**
 * The files each rank stages in. With the timestep layout rank R takes timestep.K/data.R and
 * rank 0 also timestep.K.root (a checkpoint library's pattern); otherwise files are dealt in turn.
 */
export function assignRanks(plan: DatasetPlan, spec: DatasetSpec, ranks: number): DatasetEntry[][] {
  const out: DatasetEntry[][] = Array.from({ length: ranks }, () => []);
  plan.entries.forEach((e, i) => {
    const data = spec.layout === 'timestep' ? /\/data\.(\d+)$/.exec(e.path) : null;
    const rank = spec.layout === 'timestep' ? (data ? Number(data[1]) % ranks : 0) : i % ranks;
    out[rank]!.push(e);
  });
  return out;
}

/** One file a rank must deliver: the input it comes from, and its expected size and SHA-256. */
export interface ExpectedFile extends ManifestEntry {
  input: DatasetEntry;
}

/** What compute makes of each input (the inputs themselves without a compute step). */
export function expectedOutputs(inputs: readonly DatasetEntry[], manifest: ReadonlyMap<string, ManifestEntry>, compute: ComputeSpec | undefined): ExpectedFile[] {
  return inputs.map((input) => {
    if (!compute) return { ...manifest.get(input.path)!, input };
    const hash = createHash('sha256');
    let size = 0;
    for (const chunk of compute.kind.transform(fileContent(input))) {
      hash.update(chunk);
      size += chunk.length;
    }
    return { path: compute.kind.outputPath(input.path), size, sha256: hash.digest('hex'), input };
  });
}

/** rsync's own temporary while it writes NAME: `.NAME.XXXXXX` (left behind when it is killed); group 1 is NAME. */
export const RSYNC_TEMP = /^\.(.+)\.[A-Za-z0-9]{6}$/;

/** What every rank of a pipeline cell stages in and must deliver, from the scenario alone. */
export function pipelineExpectations(scenario: PipelineScenario) {
  const spec = scenario.pipeline!;
  const plan = planDataset(scenario.dataset);
  const compute = spec.compute ? (parseCompute(spec.compute.run) as ComputeSpec) : undefined;
  const byRank = assignRanks(plan, scenario.dataset, spec.ranks);
  const inputs: ExpectedFile[][] = byRank.map((entries) => entries.map((input) => ({ path: input.path, size: input.size, sha256: sha256Of(input), input })));
  const manifest = new Map(inputs.flat().map((f) => [f.path, f]));
  const outputs = byRank.map((entries) => expectedOutputs(entries, manifest, compute));
  return { spec, plan, compute, byRank, inputs, outputs };
}
export type PipelineExpectations = ReturnType<typeof pipelineExpectations>;
