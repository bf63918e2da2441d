import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import pLimit from 'p-limit';
import { planDataset, type Manifest } from '../dataset/dataset.js';
import { requireTool } from '../hosts/openssh/openssh-tools.js';
import { LocalHostFiles } from '../hosts/local/local-host-files.js';
import { succeeded, type CellRecord, type StepRecord, type TransferRecord, type VerificationRecord } from '../records/transfer-record.js';
import type { CellContext, CellKind, CellRepeatResult } from '../run/cell-kind.js';
import { openSshdWindow } from '../run/sshd-window.js';
import type { PipelineSpec } from '../scenario/pipeline-schema.js';
import { makeLane, muxSummary, writeLanes } from '../transfers/lane.js';
import { RsyncTool } from '../transfers/rsync-tool.js';
import { silentDrops, verifyDestination } from '../verification/verify.js';
import { parseCompute, type ComputeSpec } from './compute/registry.js';
import { checkInvariants } from './invariants.js';
import { assignRanks, expectedOutputs, stagingPaths, type ExpectedFile } from './layout.js';
import { runRank } from './rank.js';
import { readState, writeState, type RankState } from './state-file.js';
import type { PipelineRepeat, StageRuntime } from './steps/step-kind.js';

/** Inputs on the `from` host, written once per repeat (a resumed repeat finds them by their manifest). */
async function placeInputs(dir: string, manifestFile: string, plan: ReturnType<typeof planDataset>): Promise<Manifest> {
  const saved = await readFile(manifestFile, 'utf8').then((t) => JSON.parse(t) as Manifest, () => undefined);
  if (saved) return saved;
  const manifest = await new LocalHostFiles().writeDataset(dir, plan);
  await writeFile(manifestFile, JSON.stringify(manifest));
  return manifest;
}

/**
 * A pipeline cell: per rank, stage-in → compute → stage-out (rank.ts), every rank at once, the
 * stage steps' invocations bounded by their concurrency. After the ranks, the cell's outputs are
 * verified like a transfer cell's destination and the pipeline invariants are checked and
 * recorded. Its transfers, verification and cell records are those of any cell, so every report
 * reads them; step and invariant records add the pipeline's own view.
 */
export const pipelineCell: CellKind = {
  async prepare(ctx) {
    const scenario = ctx.cell.scenario;
    const spec = scenario.pipeline!;
    const dplan = planDataset(scenario.dataset);
    const compute = spec.compute ? (parseCompute(spec.compute.run) as ComputeSpec) : undefined;
    const byRank = assignRanks(dplan, scenario.dataset, spec.ranks);
    const rsync = requireTool(ctx.tools, 'rsync');
    return { run: (repeat) => runPipelineRepeat(ctx, { spec, dplan, compute, byRank, rsync }, repeat) };
  },
};

interface Prepared {
  spec: PipelineSpec;
  dplan: ReturnType<typeof planDataset>;
  compute: ComputeSpec | undefined;
  byRank: ReturnType<typeof assignRanks>;
  rsync: string;
}

async function runPipelineRepeat(ctx: CellContext, prep: Prepared, repeat: number): Promise<CellRepeatResult> {
  const { cell, topology, clock, signal } = ctx;
  const { spec, dplan, compute, byRank } = prep;
  const paths = stagingPaths(ctx.reportDir, cell.index, repeat);
  const controlDir = join(ctx.controlBase, `c${cell.index}r${repeat}`);
  await mkdir(paths.state, { recursive: true });
  await mkdir(controlDir, { recursive: true, mode: 0o700 });

  // Inputs live on the stage-in host; without stage-in they are born on the workers (a checkpoint).
  let manifest: Manifest;
  if (spec.stage_in) {
    manifest = await placeInputs(paths.inputs(spec.stage_in.from), join(paths.root, 'inputs.manifest.json'), dplan);
  } else {
    manifest = [];
    for (const [rank, entries] of byRank.entries()) {
      const worker = paths.worker(rank);
      if (!(await readState(paths.state, rank))) await new LocalHostFiles().writeDataset(worker.in, { ...dplan, entries });
      manifest.push(...(await new LocalHostFiles().scan(worker.in)));
    }
  }
  const byPath = new Map(manifest.map((m) => [m.path, m]));
  const inputs: ExpectedFile[][] = byRank.map((entries) => entries.map((e) => ({ ...byPath.get(e.path)!, input: e })));
  const outputs: ExpectedFile[][] = byRank.map((entries) => expectedOutputs(entries, byPath, compute));

  const stages: PipelineRepeat['stages'] = {};
  for (const which of ['stage_in', 'stage_out'] as const) {
    const s = spec[which];
    if (!s) continue;
    const host = which === 'stage_in' ? spec.stage_in!.from : spec.stage_out!.to;
    const lane = makeLane({
      client: topology.client, remote: topology.host(host), via: s.via, mux: s.mux, sshOptions: s.ssh_options,
      controlDir: join(controlDir, which), ssh: ctx.tools.ssh, usesSsh: true, runsSsh: false, direct: false,
    });
    const runtime: StageRuntime = {
      spec: s, host, lane,
      limit: pLimit(s.concurrency ?? spec.ranks),
      policy: {
        tool: new RsyncTool(prep.rsync, s.rsync_args),
        retries: s.retries, backoffMs: s.backoff_ms, backoffMaxMs: s.backoff_max_ms, timeoutMs: s.timeout_s * 1000,
        clientVersion: ctx.clientVersion, clock, launcher: ctx.launcher, ...(signal ? { signal } : {}),
      },
    };
    stages[which] = runtime;
  }
  const lanes = Object.values(stages).map((s) => s.lane);
  await writeLanes(lanes);
  await using _masters = { [Symbol.asyncDispose]: async () => void (await Promise.all(lanes.map((l) => l.mux.close()))) };
  const mux = muxSummary(await Promise.all(lanes.map((l) => l.mux.open(signal))));

  const transfers: TransferRecord[] = [];
  const p: PipelineRepeat = {
    cell: cell.id, repeat, spec, seed: cell.scenario.dataset.seed, paths, controlDir, stages, compute, inputs, outputs, clock,
    ...(signal ? { signal } : {}),
    onTransfer: (record) => {
      transfers.push(record);
      ctx.onTransfer(record);
    },
  };

  const start = clock();
  const sshdWindow = openSshdWindow(topology, start);
  await Promise.all(
    byRank.map(async (_, rank) => {
      const state: RankState = (await readState(paths.state, rank)) ?? { version: 1, cell: cell.id, repeat, rank, steps: {}, files: [], temp_roots: [] };
      // One save at a time per rank, in order: the file on disk is always the latest whole state.
      let saving = Promise.resolve();
      const run = { rank, state, save: () => (saving = saving.then(() => writeState(paths.state, run.state))) };
      await run.save();
      await runRank(p, run, (step) => ctx.write({ type: 'step', cell: cell.id, repeat, rank, ...step } satisfies StepRecord));
    }),
  );
  await Promise.all(lanes.map((l) => l.mux.close()));
  const end = Math.max(start, ...transfers.map((t) => t.end_ms));
  const sshd = await sshdWindow.close();

  const states = await Promise.all(byRank.map((_, rank) => readState(paths.state, rank)));
  const invariants = await checkInvariants({ spec, paths, inputs, outputs, states });
  ctx.write({ type: 'invariants', cell: cell.id, repeat, ...invariants });

  // The delivered outputs, verified as a transfer cell's destination is (temporaries aside).
  const outDir = spec.stage_out ? paths.outputs(spec.stage_out.to) : undefined;
  const expected = outputs.flat().map(({ path, size, sha256 }) => ({ path, size, sha256 }));
  const found = outDir ? (await new LocalHostFiles().scan(outDir)).filter((f) => !f.path.startsWith('.') && !f.path.includes('/.')) : [];
  const { counts, problems, verdicts } = outDir ? verifyDestination(expected, found) : { counts: { ok: 0, missing: 0, corrupt: 0, extra: 0 }, problems: [], verdicts: new Map() };
  const outTransfers = transfers.filter((t) => t.step === 'stage_out');
  const drops = outDir && spec.stage_out!.finalize === 'now' ? silentDrops(outTransfers, verdicts) : [];
  const verification: VerificationRecord = { type: 'verification', cell: cell.id, repeat, counts, problems, silent_drops: drops };
  const record: CellRecord = {
    type: 'cell', cell: cell.id, cell_index: cell.index, values: cell.values, repeat,
    concurrency: Math.max(...Object.values(stages).map((s) => s.spec.concurrency ?? spec.ranks)),
    start_ms: start, end_ms: end,
    files: transfers.length,
    bytes_ok: transfers.filter(succeeded).reduce((n, t) => n + t.bytes, 0),
    ok: transfers.filter(succeeded).length,
    failed: transfers.filter((t) => t.status === 'failed').length,
    recovered: transfers.filter((t) => t.status === 'recovered').length,
    canceled: transfers.filter((t) => t.status === 'canceled').length,
    silent_drops: drops.length,
    ...sshd,
    mux,
  };
  return { transfers, verification, cell: record };
}
