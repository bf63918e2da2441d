import { resolve } from 'node:path';
import { XferbenchError } from '../util/errors.js';
import { loadReportScenario, readResults } from '../report/report-dir.js';
import { ReportFolderError } from '../records/report-folder.js';
import type { ResultRecord } from '../records/result-record.js';
import type { LoadedScenario } from '../plan/load-plan.js';
import type { LoadOptions } from '../scenario/load-scenario.js';

export interface ResumeState {
  /** `cell\0repeat` of every repeat that finished (its cell record is in results.jsonl). */
  completed: ReadonlySet<string>;
  /** The run clock goes on from the last time recorded, so one timeline covers the whole run. */
  clockOffsetMs: number;
  /** How many times the run was resumed before (logs of each resume are kept apart). */
  resumes: number;
  /** What repeats that did not finish recorded already: the resumed repeat's records build on it. */
  earlier: ReadonlyMap<string, readonly ResultRecord[]>;
  /** Above every Slurm job id recorded: a resumed run's new private cluster numbers on from here. */
  firstJobId: number;
}

export const repeatKey = (cell: string, repeat: number) => `${cell}\u0000${repeat}`;

function lastTime(r: ResultRecord): number {
  switch (r.type) {
    case 'transfer':
    case 'cell':
    case 'step':
      return r.end_ms;
    case 'fault_start':
    case 'fault_end':
    case 'fault_missed':
      return r.t_ms;
    default:
      return 0;
  }
}

/**
 * What `xferbench resume DIR` continues: the scenario as it ran (scenario.yaml holds it with
 * every --set applied), and which cell repeats finished. Only pipelines resume: their state
 * files say where each rank stopped. Undefined when the run completed.
 */
export async function planResume(dir: string, options: Pick<LoadOptions, 'limits' | 'administer'>): Promise<{ loaded: LoadedScenario; state: ResumeState } | undefined> {
  const folder = resolve(dir);
  const records = await readResults(folder).catch((e: unknown) => {
    if (e instanceof ReportFolderError && /cannot read .*ENOENT/.test(e.message)) throw new XferbenchError(`${folder} holds no results.jsonl: not a report folder of xferbench run`);
    throw e;
  });
  if (records.some((r) => r.type === 'run_end' && r.outcome === 'completed')) return undefined;
  const loaded = await loadReportScenario(folder, options);
  if (!loaded.scenario.pipeline) {
    throw new XferbenchError('resume continues pipeline runs (their state files say where each rank stopped); a transfer scenario measures each repeat whole: run it again');
  }
  const completed = new Set(records.flatMap((r) => (r.type === 'cell' ? [repeatKey(r.cell, r.repeat)] : [])));
  const clockOffsetMs = records.reduce((m, r) => Math.max(m, lastTime(r)), 0) + 1;
  const earlier = new Map<string, ResultRecord[]>();
  for (const r of records) {
    if ((r.type !== 'transfer' && r.type !== 'step') || completed.has(repeatKey(r.cell, r.repeat))) continue;
    earlier.set(repeatKey(r.cell, r.repeat), [...(earlier.get(repeatKey(r.cell, r.repeat)) ?? []), r]);
  }
  const firstJobId = records.reduce((m, r) => (r.type === 'step' && r.job_id ? Math.max(m, Number(r.job_id) + 1) : m), 1);
  return { loaded, state: { completed, clockOffsetMs, resumes: records.filter((r) => r.type === 'run_resume').length, earlier, firstJobId } };
}
