import { access, rm, writeFile } from 'node:fs/promises';
import { join, posix, relative } from 'node:path';
import { realFolder, refuseLinks } from '../records/report-folder.js';
import { requireTool } from '../ssh/openssh-tools.js';
import { LocalHostFiles } from '../hosts/local/local-host-files.js';
import { succeeded, type TransferRecord } from '../records/transfer-record.js';
import { type StepRecord } from '../records/pipeline-records.js';
import { type VerificationRecord } from '../records/cell-record.js';
import { RunAbortedError } from '../util/errors.js';
import type { CellContext, CellKind, CellRepeatResult } from './cell-kind.js';
import { RepeatFrame } from './repeat-frame.js';
import { makeLane, type Lane } from '../transfers/lane.js';
import { verifyDestination } from '../verification/verify.js';
import { checkInvariants } from '../pipeline/invariants.js';
import { pipelineExpectations, stagingPaths, type PipelineExpectations, type StagingPaths } from '../pipeline/layout.js';
import { pipelineRepeat, type PipelineJobContext } from '../pipeline/job-context.js';
import { CHAIN } from '../pipeline/rank.js';
import { rankRun, readState, type RankState } from '../pipeline/state-file.js';
import { STEP_REGISTRY } from '../pipeline/steps/registry.js';
import type { RankRun } from '../pipeline/state-file.js';

/** Inputs on the `from` host, written once per repeat (a resumed repeat finds them complete by the marker). */
async function placeInputs(dir: string, marker: string, plan: PipelineExpectations['plan']): Promise<void> {
  if (await access(marker).then(() => true, () => false)) return;
  await new LocalHostFiles().writeDataset(dir, plan);
  await writeFile(marker, '');
}

/**
 * A repeat's data once it is verified: removed (a pipeline moves each file up to four times),
 * unless --keep-state asked to keep it or a deferred finalize still needs it. State files and
 * compute logs stay: they are the record of what happened.
 */
async function removeData(paths: StagingPaths): Promise<void> {
  await rm(join(paths.root, 'hosts'), { recursive: true, force: true });
  await rm(join(paths.root, 'workers'), { recursive: true, force: true });
}

/**
 * A pipeline cell: per rank, stage-in → compute → stage-out (rank.ts), every rank at once, the
 * stage steps' invocations bounded by their concurrency; the cell's executor runs the ranks (in
 * this process, or each step a Slurm batch job). After the ranks, the cell's outputs are
 * verified like a transfer cell's destination and the pipeline invariants are checked and
 * recorded. Its transfers, verification and cell records are those of any cell, so every report
 * reads them; step and invariant records add the pipeline's own view.
 */
export const pipelineCell: CellKind = {
  async prepare(ctx) {
    const expected = pipelineExpectations(ctx.cell.scenario);
    const rsync = requireTool(ctx.tools, 'rsync');
    return { run: (repeat) => runPipelineRepeat(ctx, expected, rsync, repeat) };
  },
};

async function runPipelineRepeat(ctx: CellContext, expected: PipelineExpectations, rsyncPath: string, repeat: number): Promise<CellRepeatResult> {
  const { cell, topology, clock, signal } = ctx;
  const { spec, plan, byRank, inputs, outputs } = expected;
  const paths = stagingPaths(ctx.reportDir, cell.index, repeat);
  // A resumed repeat's folder came with the report: nothing in it may lead out (docs/security.md).
  await refuseLinks(ctx.reportDir, relative(ctx.reportDir, paths.root));
  await realFolder(ctx.reportDir, relative(ctx.reportDir, paths.state));
  await using frame = await RepeatFrame.open(ctx, repeat);
  const { controlDir } = frame;

  // Inputs live on the stage-in host; without stage-in they are born on the workers (a checkpoint).
  // An external host gets them in its run folder, over SFTP, each time (its folder is the run's own).
  const source = spec.stage_in ? topology.host(spec.stage_in.from) : undefined;
  const remoteInputs = source?.external ? posix.join(source.dataRoot, `c${cell.index}r${repeat}`, 'inputs') : undefined;
  if (remoteInputs) await source!.files.writeDataset(remoteInputs, plan);
  else if (spec.stage_in) await placeInputs(paths.inputs(spec.stage_in.from), join(paths.root, 'inputs.complete'), plan);
  else {
    for (const [rank, entries] of byRank.entries()) {
      if (!(await readState(paths.state, rank))) await new LocalHostFiles().writeDataset(paths.worker(rank).in, { ...plan, entries });
    }
  }

  // Lanes to each stage's host: their ssh_config and masters are this process's, the steps' wherever they run.
  const lanes: Partial<Record<'stage_in' | 'stage_out', Lane>> = {};
  for (const which of ['stage_in', 'stage_out'] as const) {
    const s = spec[which];
    if (!s) continue;
    const host = which === 'stage_in' ? spec.stage_in!.from : spec.stage_out!.to;
    lanes[which] = makeLane({
      client: topology.client, remote: topology.host(host), via: s.via, mux: s.mux, sshOptions: s.ssh_options,
      controlDir: join(controlDir, which), ssh: ctx.tools.ssh, usesSsh: true, runsSsh: false, direct: false, clientPorts: s.client_ports,
    });
  }
  await frame.openLanes(Object.values(lanes));

  const job: PipelineJobContext = {
    cell: { id: cell.id, index: cell.index, scenario: cell.scenario }, repeat, reportDir: ctx.reportDir, controlDir, rsync: rsyncPath, clientVersion: ctx.clientVersion,
    stages: Object.fromEntries(Object.entries(lanes).map(([which, lane]) => [which, { host: which === 'stage_in' ? spec.stage_in!.from : spec.stage_out!.to, ...(which === 'stage_in' && remoteInputs ? { dir: remoteInputs } : {}), lane: { remote: lane.remote, ssh: lane.ssh } }])),
  };
  const transfers: TransferRecord[] = [];
  const p = pipelineRepeat(job, {
    clock, launcher: ctx.launcher, ...(signal ? { signal } : {}), ...(frame.pacer ? { pace: frame.pacer } : {}),
    concurrency: (which, ranks) => spec[which]?.concurrency ?? ranks,
    onTransfer: (record) => {
      transfers.push(record);
      ctx.onTransfer(record);
    },
  }, expected);

  const earlier = ctx.earlier(repeat);
  frame.begin();
  const { start } = frame;
  const saved = await Promise.all(byRank.map((_, rank) => readState(paths.state, rank)));
  // A resumed repeat (its ranks' state files exist) runs without its faults: they struck when it first ran.
  const resumed = saved.some(Boolean);
  const ranks: RankRun[] = await Promise.all(
    byRank.map(async (_, rank) => {
      const state: RankState = saved[rank] ?? { version: 2, cell: cell.id, repeat, rank, steps: {}, files: [], temp_roots: [] };
      const run = rankRun(paths.state, rank, state);
      await run.save();
      return run;
    }),
  );
  const { executor } = ctx;
  const faults = frame.startFaults(resumed ? [] : cell.scenario.faults, {
    ...(executor.queue ? { queue: executor.queue } : {}),
    // In a pipeline `at: "N%"` counts the rank-steps started (cleanup aside).
    total: byRank.length * CHAIN.filter((name) => STEP_REGISTRY[name].present(spec)).length,
  });
  await executor.ranks({
    p, ranks, job, onStepStart: () => faults.transferStarted(),
    record: (rank, step) => ctx.write({ type: 'step', cell: cell.id, repeat, rank, ...step } satisfies StepRecord),
    recorded: (rank) => new Set(earlier.flatMap((e) => (e.type === 'step' && e.rank === rank ? [e.step] : []))),
  });
  await frame.stop();
  // Interrupted: the state files say where each rank stopped; `xferbench resume` goes on from there.
  if (signal?.aborted) throw new RunAbortedError('run interrupted mid-pipeline; xferbench resume continues it from the state files');
  // Every rank is done with the temporary trees it shared; what a deferred step landed stays for finalize.
  const roots = {
    stage_in: byRank.map((_, rank) => paths.temp(paths.worker(rank).in)),
    stage_out: spec.stage_out ? [paths.temp(paths.outputs(spec.stage_out.to))] : [],
  };
  for (const which of ['stage_in', 'stage_out'] as const) {
    const s = spec[which];
    if (s?.commit === 'temp-rename' && s.finalize === 'now') for (const root of roots[which]) await rm(root, { recursive: true, force: true });
  }
  const end = Math.max(start, ...transfers.map((t) => t.end_ms));
  const sshd = await frame.sshdSeen();

  const states = await Promise.all(byRank.map((_, rank) => readState(paths.state, rank)));
  const invariants = await checkInvariants({ spec, paths, inputs, outputs, states });
  ctx.write({ type: 'invariants', cell: cell.id, repeat, ...invariants });

  // The delivered outputs, verified as a transfer cell's destination is (temporaries aside).
  const outDir = spec.stage_out ? paths.outputs(spec.stage_out.to) : undefined;
  const expectedOut = outputs.flat().map(({ path, size, sha256 }) => ({ path, size, sha256 }));
  const found = outDir ? (await new LocalHostFiles().scan(outDir)).filter((f) => !f.path.split('/').some((part) => part.startsWith('.'))) : [];
  const { counts, problems } = outDir ? verifyDestination(expectedOut, found) : { counts: { ok: 0, missing: 0, corrupt: 0, extra: 0 }, problems: [] };
  // Found by each step where its files landed: a later cleanup removing a rank's outputs is no drop.
  const drops = p.silentDrops;
  const verification: VerificationRecord = { type: 'verification', cell: cell.id, repeat, counts, problems, silent_drops: drops };
  const deferred = [spec.stage_in, spec.stage_out].some((s) => s?.finalize === 'defer');
  if (!ctx.keepData && !deferred) await removeData(paths);
  // A resumed repeat's record covers the whole repeat: what ran before the interruption too.
  const before = earlier.filter((e): e is TransferRecord => e.type === 'transfer');
  const all = [...before, ...transfers];
  const record = frame.cellRecord({
    // Both stage steps can run at once (one rank staging in while another stages out), but a
    // rank runs one invocation at a time: at most one per rank is ever in flight.
    concurrency: Math.min(spec.ranks, Object.values(p.stages).reduce((n, s) => n + (s.spec.concurrency ?? spec.ranks), 0)),
    start_ms: Math.min(start, ...before.map((t) => t.start_ms)), end_ms: end,
    bytes_ok: all.filter(succeeded).reduce((n, t) => n + t.bytes, 0),
    transfers: all,
    silent_drops: drops.length,
    sshd,
  });
  return { transfers, verification, cell: record };
}
