import { access } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { confined, refuseLinks, ReportFolderError } from '../records/report-folder.js';
import { XferbenchError } from '../util/errors.js';
import { JsonlWriter } from '../records/jsonl-writer.js';
import type { InvariantsRecord } from '../records/pipeline-records.js';
import { invariantsText, pipelineSummary } from '../report/pipeline-summary.js';
import { writeDerivedReport } from '../exporters/write-report.js';
import { loadReportScenario } from '../report/report-dir.js';
import { finalizeStates, type RankFinalize } from '../pipeline/finalize.js';
import { checkInvariants } from '../pipeline/invariants.js';
import { pipelineExpectations, STAGING_DIR, stagingPaths } from '../pipeline/layout.js';
import { readState } from '../pipeline/state-file.js';

const exists = (path: string) => access(path).then(() => true, () => false);
/** Above this many ranks the text gives totals only (--json has every rank). */
const RANK_LINES = 32;

/**
 * `xferbench finalize DIR`: finalize every rank state file below DIR. In a report folder, the
 * pipeline invariants are then checked again on what is on disk, recorded in results.jsonl and
 * the report is rewritten, so report.html says whether the finalized outputs hold.
 */
export async function finalizeReport(dir: string): Promise<{ ranks: RankFinalize[]; invariants: InvariantsRecord[]; text: string; exitCode: 0 | 1 | 2 }> {
  const folder = resolve(dir);
  // The folder may come from elsewhere: staging/ is its own folder, not a link out of it.
  const staging = (await exists(join(folder, STAGING_DIR))) ? confined(folder, STAGING_DIR) : folder;
  const ranks = await finalizeStates(staging).catch((e: NodeJS.ErrnoException) => {
    throw new XferbenchError(e.code === 'ENOENT' ? `${folder} does not exist` : e.message);
  });
  if (ranks.length === 0) throw new XferbenchError(`no rank state files (rank-N.json) below ${folder}`);
  const invariants: InvariantsRecord[] = [];
  const isReport = (await exists(join(folder, 'results.jsonl'))) && (await exists(join(folder, 'scenario.yaml')));
  if (isReport) {
    const { plan } = await loadReportScenario(folder);
    using writer = new JsonlWriter(join(folder, 'results.jsonl'));
    for (const cell of plan.cells) {
      if (!cell.scenario.pipeline) continue;
      const expected = pipelineExpectations(cell.scenario);
      for (let repeat = 1; repeat <= plan.repeat; repeat++) {
        const paths = stagingPaths(folder, cell.index, repeat);
        if (!(await exists(paths.state))) continue;
        await refuseLinks(folder, relative(folder, paths.root));
        // A refused state file was reported above; its rank counts as unaccounted for (invariant 4).
        const states = await Promise.all(expected.byRank.map((_, rank) => readState(paths.state, rank).catch((e: unknown) => {
          if (e instanceof ReportFolderError) return undefined;
          throw e;
        })));
        const record: InvariantsRecord = { type: 'invariants', cell: cell.id, repeat, ...(await checkInvariants({ ...expected, paths, states })) };
        writer.write(record);
        invariants.push(record);
      }
    }
    writer.close();
    await writeDerivedReport(folder);
  }
  const total = (k: 'finalized' | 'removed' | 'unchanged') => ranks.reduce((n, r) => n + r[k], 0);
  const errors = ranks.flatMap((r) => r.errors);
  const lines = [
    `finalized ${ranks.length} rank state file(s) in ${staging}: ${total('finalized')} file(s) renamed into place, ${total('removed')} temporar${total('removed') === 1 ? 'y' : 'ies'} deleted, ${total('unchanged')} already done`,
    ...(ranks.length <= RANK_LINES ? ranks.map((r) => `  ${r.cell} #${r.repeat} rank ${r.rank}: ${r.finalized} finalized, ${r.removed} removed, ${r.unchanged} unchanged${r.errors.length ? `; ${r.errors.join('; ')}` : ''}`) : []),
    ...errors.slice(0, 20).map((e) => `  error: ${e}`),
  ];
  const summary = isReport ? pipelineSummary(invariants) : undefined;
  if (summary) lines.push(invariantsText(summary));
  const failed = errors.length > 0 || invariants.some((i) => i.violations.length > 0);
  // A refused state file is bad input (exit 2), after the other ranks were finalized.
  return { ranks, invariants, text: lines.join('\n'), exitCode: ranks.some((r) => r.refused) ? 2 : failed ? 1 : 0 };
}
