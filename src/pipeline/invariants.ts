import { lstat, readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { sizeAndHash } from '../hosts/local/local-host-files.js';
import type { InvariantsRecord, InvariantViolation, StepName } from '../records/pipeline-records.js';
import type { PipelineSpec } from './pipeline-spec.js';
import { sameTimes } from './commit.js';
import { PARTIAL_DIR, RSYNC_TEMP, type ExpectedFile, type StagingPaths } from './layout.js';
import type { RankState } from './state-file.js';

export interface InvariantInput {
  spec: PipelineSpec;
  paths: StagingPaths;
  inputs: readonly (readonly ExpectedFile[])[];
  outputs: readonly (readonly ExpectedFile[])[];
  /** Each rank's state file (undefined: none was written). */
  states: readonly (RankState | undefined)[];
}

async function filesBelow(dir: string): Promise<string[]> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    return entries.filter((e) => e.isFile()).map((e) => relative(dir, join(e.parentPath ?? e.path, e.name)).split(sep).join('/'));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw e;
  }
}

const isTemp = (rel: string) => rel.split('/')[0] === PARTIAL_DIR || RSYNC_TEMP.test(rel.split('/').at(-1)!);

/**
 * The four invariants of a pipeline, checked on what is on disk after a repeat (and after
 * finalize): (1) a final path holds nothing or the complete expected file; (2) no temporary is
 * left, except those a deferred finalize is to handle (counted as pending); (3) a committed file
 * has its source's mode and times (and owner, as root); (4) every rank reached an end: ok,
 * failed with a class, skipped, or cleaned up.
 */
export async function checkInvariants(input: InvariantInput): Promise<Omit<InvariantsRecord, 'type' | 'cell' | 'repeat'>> {
  const { spec, paths } = input;
  const violations: InvariantViolation[] = [];
  let pending = 0;
  const destinations: { dir: string; expected: Map<string, ExpectedFile>; deferred: boolean }[] = [];
  if (spec.stage_in) {
    input.inputs.forEach((files, rank) =>
      destinations.push({ dir: paths.worker(rank).in, expected: new Map(files.map((f) => [f.path, f])), deferred: spec.stage_in!.finalize === 'defer' }),
    );
  }
  if (spec.stage_out) {
    destinations.push({ dir: paths.outputs(spec.stage_out.to), expected: new Map(input.outputs.flat().map((f) => [f.path, f])), deferred: spec.stage_out.finalize === 'defer' });
  }
  for (const d of destinations) {
    for (const rel of await filesBelow(d.dir)) {
      const path = join(d.dir, rel);
      if (isTemp(rel)) {
        if (d.deferred && rel.startsWith(`${PARTIAL_DIR}/`)) pending++;
        else violations.push({ invariant: 2, path, detail: 'a temporary file is left' });
        continue;
      }
      const want = d.expected.get(rel);
      if (!want) {
        violations.push({ invariant: 1, path, detail: 'a file no rank was to deliver' });
        continue;
      }
      const got = await sizeAndHash(path);
      if (got.size !== want.size) violations.push({ invariant: 1, path, detail: `partial: ${got.size} of ${want.size} bytes` });
      else if (got.sha256 !== want.sha256) violations.push({ invariant: 1, path, detail: 'complete in size but its bytes differ from the expected file' });
    }
  }
  const root = process.getuid?.() === 0;
  const ranks = { ok: 0, failed: 0, cleaned: 0 };
  const chain = (['stage_in', 'compute', 'stage_out'] as const).filter((s) => spec[s] !== undefined);
  for (const [rank, state] of input.states.entries()) {
    if (!state) {
      violations.push({ invariant: 4, path: join(paths.state, `rank-${rank}.json`), detail: 'the rank has no state file: it never ran' });
      continue;
    }
    for (const f of state.files) {
      if (f.status !== 'final') continue;
      const s = await lstat(f.final, { bigint: true }).catch(() => undefined);
      if (!s) violations.push({ invariant: 3, path: f.final, detail: 'committed, but the file is gone' });
      else if (Number(s.mode & 0o7777n) !== f.mode) violations.push({ invariant: 3, path: f.final, detail: `mode ${Number(s.mode & 0o7777n).toString(8)}, source had ${f.mode.toString(8)}` });
      else if (!sameTimes(s.mtimeNs, f.mtime_ns)) violations.push({ invariant: 3, path: f.final, detail: 'mtime differs from the source' });
      else if (root && (Number(s.uid) !== f.uid || Number(s.gid) !== f.gid)) violations.push({ invariant: 3, path: f.final, detail: `owner ${s.uid}:${s.gid}, source had ${f.uid}:${f.gid}` });
    }
    const open = chain.filter((s: StepName) => !state.steps[s] || state.steps[s]!.status === 'running');
    const failedStep = chain.find((s) => state.steps[s]?.status === 'failed');
    if (open.length > 0) violations.push({ invariant: 4, path: join(paths.state, `rank-${rank}.json`), detail: `rank ${rank} never finished ${open.join(', ')}` });
    else if (!failedStep) ranks.ok++;
    else if (state.steps.cleanup?.status === 'ok') ranks.cleaned++;
    else if (spec.on_failure === 'cleanup') violations.push({ invariant: 4, path: join(paths.state, `rank-${rank}.json`), detail: `rank ${rank} failed at ${failedStep} and was not cleaned up` });
    else ranks.failed++;
  }
  return { ranks, pending_finalize: pending, violations };
}
