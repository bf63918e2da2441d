// An example to copy into your own suite: run a scenario from a test and assert on its outcome.
// In your project: npm install -D xferbench vitest, then `npx vitest run`.
import { describe, expect, it } from 'vitest';
import { runScenario } from 'xferbench';
import 'xferbench/vitest';

describe('sshd with MaxStartups 10:30:100 (the default)', () => {
  it('drops connections above its start only, classifies every drop, and loses no file silently', async () => {
    const run = await runScenario(
      {
        name: 'example-maxstartups',
        hosts: { target: { sshd: { MaxStartups: '10:30:100' } } },
        dataset: { files: 40, size: '16KiB' },
        transfer: { tool: 'rsync', to: 'target' },
        matrix: { concurrency: [5, 40] },
      },
      { outDir: `reports/example-${process.pid}` },
    );
    expect(run).toHaveNoSilentDrops();
    expect(run).toHaveFailureRate({ cell: 'concurrency=5', max: 0 });
    expect(run).toHaveClass('maxstartups_drop', { cell: 'concurrency=40' });
    expect(run).not.toHaveClass('timeout');
  });
});
