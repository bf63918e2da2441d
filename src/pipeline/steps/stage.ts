import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sizeAndHash } from '../../hosts/local/local-host-files.js';
import { succeeded, type TransferRecord } from '../../records/transfer-record.js';
import { filesPerInvocation, parseStrategy, stageStrategy, type Strategy } from '../pipeline-spec.js';
import { runTransfer } from '../../transfers/run-transfer.js';
import { perFile } from '../../transfers/transfer-pool.js';
import type { TransferJob } from '../../transfers/transfer-tool.js';
import { commitFile, discardFile, removeRankTemps, removeRsyncTemps, sourceMetadata } from '../commit.js';
import type { ExpectedFile } from '../layout.js';
import type { FileState } from '../state-file.js';
import { asEntry, type PipelineRepeat, type StepKind, type StepResult } from './step-kind.js';
import { type RankRun } from '../state-file.js';

type Which = 'stage_in' | 'stage_out';

/** Where a rank's files come from and go, on this machine; the remote side is the stage's host. */
function ends(p: PipelineRepeat, rank: number, which: Which) {
  const stage = p.stages[which]!;
  const worker = p.paths.worker(rank);
  if (which === 'stage_in') return { files: p.inputs[rank]!, from: stage.dir ?? p.paths.inputs(stage.host), to: worker.in, remoteIs: 'source' as const };
  // Without compute, stage-out sends back what came in.
  return { files: p.outputs[rank]!, from: p.compute ? worker.out : worker.in, to: p.paths.outputs(stage.host), remoteIs: 'dest' as const };
}

const chunks = <T>(list: readonly T[], size: number): T[][] => Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));

/** Did the file arrive whole where the invocation was to put it? */
async function arrived(dir: string, f: ExpectedFile): Promise<boolean> {
  try {
    const got = await sizeAndHash(join(dir, f.path));
    return got.size === f.size && got.sha256 === f.sha256;
  } catch {
    return false;
  }
}

/**
 * A stage step of one rank: its files grouped by the strategy (one per invocation, K, or all),
 * each group one rsync with a --files-from list, one group after another as a staging process
 * would, at most `concurrency` invocations in flight over all ranks. Every file is verified
 * where it landed; with temp-rename it lands in the rank's temporary folder and is renamed into
 * place (now, or by `xferbench finalize` when deferred).
 */
function stageStep(which: Which): StepKind {
  return {
    present: (spec) => spec[which] !== undefined,
    async run(p, r: RankRun): Promise<StepResult> {
      const stage = p.stages[which]!;
      const { files, from, to, remoteIs } = ends(p, r.rank, which);
      const commit = stage.spec.commit === 'temp-rename';
      const deferred = commit && stage.spec.finalize === 'defer';
      const land = commit ? p.paths.temp(to) : to;
      const rel = files.map((f) => f.path);
      // A retried step (after an interruption) starts over: its temporaries go first.
      if (!commit) removeRsyncTemps(to, rel);
      if (commit) {
        removeRankTemps(land, rel);
        const meta = await Promise.all(files.map((f) => sourceMetadata(join(from, f.path))));
        const planned: FileState[] = files.map((f, i) => ({ step: which, source: join(from, f.path), temp: join(land, f.path), final: join(to, f.path), ...meta[i]!, status: 'pending' }));
        r.state.files = [...r.state.files.filter((f) => f.step !== which), ...planned];
        r.state.temp_roots = [...new Set([...r.state.temp_roots, land])];
        await r.save();
      }
      await mkdir(land, { recursive: true });
      const lists = join(p.controlDir, `r${r.rank}-${which}`);
      await mkdir(lists, { recursive: true, mode: 0o700 });
      const strategy = parseStrategy(stageStrategy(p.spec, stage.spec)) as Strategy;
      const groups = chunks(files, filesPerInvocation(strategy, files.length));
      const remote = stage.lane.remote;
      const records: TransferRecord[] = [];
      let okFiles = 0;
      let okBytes = 0;
      let silent = false;
      let commitError: string | undefined;
      for (const [i, group] of groups.entries()) {
        if (p.signal?.aborted) break;
        const id = `${which}-r${r.rank}-b${i}`;
        const listFile = join(lists, `b${i}.files`);
        await writeFile(listFile, group.map((f) => `${f.path}\n`).join(''), { mode: 0o600 });
        const entries = group.map(asEntry);
        const job: TransferJob = {
          entry: entries[0]!,
          source: { ...(remoteIs === 'source' ? { host: remote } : {}), path: `${from}/` },
          dest: { ...(remoteIs === 'dest' ? { host: remote } : {}), path: `${land}/` },
          ssh: stage.lane.ssh,
          batch: { id, entries, listFile, workDir: lists },
        };
        const mark = async (status: FileState['status'], paths: ReadonlySet<string>) => {
          if (!commit) return;
          r.state.files = r.state.files.map((f) => (f.step === which && paths.has(f.final) ? { ...f, status } : f));
          await r.save();
        };
        const finals = new Set(group.map((f) => join(to, f.path)));
        await mark('inprog', finals);
        const record = await stage.limit(() => runTransfer(job, p.cell, p.repeat, stage.policy));
        const landed = await Promise.all(group.map((f) => arrived(land, f)));
        const perFileRecords = perFile(record, job.batch!).map((rec, k): TransferRecord => {
          // The invocation failed, but this file is whole: verification speaks for it (as for tool: command batches).
          const fixed = rec.status === 'failed' && landed[k] ? { ...rec, status: 'ok' as const, failure_class: null } : rec;
          return { ...fixed, rank: r.rank, step: which };
        });
        for (const [k, rec] of perFileRecords.entries()) {
          if (succeeded(rec) && !landed[k]) {
            silent = true;
            p.silentDrops.push(join(to, rec.file));
          }
          records.push(rec);
        }
        if (commit) {
          r.state.files = r.state.files.map((f) => {
            if (f.step !== which || !finals.has(f.final)) return f;
            const ok = landed[group.findIndex((g) => join(to, g.path) === f.final)];
            if (!ok) return deferred ? { ...f, status: 'error' as const } : discardFile({ ...f, status: 'error' });
            if (deferred) return { ...f, status: 'landed' as const };
            const done = commitFile(f);
            if (done.status !== 'final') commitError = done.error;
            return done.status === 'final' ? done : discardFile(done);
          });
          await r.save();
        }
        // Recorded once saved: a run killed after a file's record finds it landed in the state file.
        for (const rec of perFileRecords) p.onTransfer(rec);
        group.forEach((f, k) => {
          if (!landed[k]) return;
          okFiles++;
          okBytes += f.size;
        });
      }
      if (commit && !deferred) removeRankTemps(land, rel);
      const failed = records.find((rec) => rec.status === 'failed');
      const allOk = okFiles === files.length && commitError === undefined;
      const failure_class = allOk ? undefined : failed?.failure_class ?? (silent ? 'silent_drop' : commitError ? 'commit_failed' : p.signal?.aborted ? 'interrupted' : 'unknown');
      return { status: allOk ? 'ok' : 'failed', files: okFiles, bytes: okBytes, invocations: groups.length, ...(failure_class ? { failure_class } : {}) };
    },
  };
}

export const stageInStep = stageStep('stage_in');
export const stageOutStep = stageStep('stage_out');
