import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { readResults } from '../../src/report/report-dir.js';
import { buildSummary } from '../../src/report/summary.js';
import type { RunResult } from '../../src/run/run-scenario.js';
import '../../src/vitest.js';
import { REPO } from '../helpers/harness.js';

const fixture = join(REPO, 'test', 'fixtures', 'runs', 'regressed');
const run = async (): Promise<RunResult> => {
  const summary = buildSummary(await readResults(fixture));
  return { reportDir: fixture, plan: undefined as never, summary, thresholds: [], exitCode: 0, report: { dir: fixture, records: [], summary, thresholds: [] } };
};

describe('xferbench/vitest matchers', () => {
  it('pass on what the run shows', async () => {
    const r = await run();
    expect(r).toHaveNoSilentDrops();
    expect(r).toHaveFailureRate({ cell: 'concurrency=10', max: 0 });
    expect(r).toHaveClass('maxstartups_drop', { cell: 'concurrency=40' });
    expect(r).not.toHaveClass('timeout');
  });

  it('fail with the cell\'s numbers and the report folder', async () => {
    const r = await run();
    expect(() => expect(r).toHaveFailureRate({ cell: 'concurrency=40', max: 0 })).toThrow(
      /at most 0\.0% in every repeat, but:\n {2}concurrency=40: \d+ files, \d+ ok, \d+ failed \(per repeat: [\d.]+%, [\d.]+%.*classes maxstartups_drop:\d+\nreport: .*runs\/regressed\/report\.html/,
    );
    expect(() => expect(r).toHaveClass('auth', { cell: 'concurrency=10' })).toThrow(/expected auth in concurrency=10, but no transfer saw it/);
    expect(() => expect(r).toHaveClass('auth', { cell: 'nope' })).toThrow(/no cell "nope" in this run; its cells: concurrency=10, concurrency=40/);
  });
});
