// The harness's own cost against this machine's yardsticks (bench/yardsticks.ts), measured in
// the same run (`npm run bench -- cost`).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { percentile } from '../src/report/statistics.js';
import type { OpenSshTools } from '../src/ssh/openssh-tools.js';
import { CLI, endToEnd, timed, type AddRow, type Measured } from './end-to-end.js';
import { medianOf, ROUNDS, type Yardsticks } from './yardsticks.js';

const REPO = join(import.meta.dirname, '..');
const median = (xs: number[]) => percentile(xs, 50)!;

export async function costBench(root: string, tools: OpenSshTools, y: Yardsticks, addRow: AddRow): Promise<void> {
  console.error('bench: the harness\'s own cost against yardsticks...');
  const dir = join(root, 'cost');
  await mkdir(dir, { recursive: true });

  const validate = await medianOf([process.execPath, CLI, 'validate', join(REPO, 'scenarios', 'maxstartups.yaml')]);
  const ratio = validate.wallMs / y.nodeWallMs;
  addRow(`xferbench validate maxstartups.yaml (${ROUNDS} runs, median) against node -e 0`, `${validate.wallMs.toFixed(0)} ms: ${ratio.toFixed(2)} ×`, '≤ 2 ×', ratio <= 2);

  const file = join(dir, 'cp-1.yaml');
  await writeFile(file, stringify({ name: 'cost-1', hosts: { target: { sshd: {} } }, dataset: { files: 1, size: '1KiB', seed: 1 }, transfer: { tool: 'cp', to: 'target', concurrency: 10 }, repeat: 1 }));
  const runs: Measured[] = [];
  for (let i = 0; i < ROUNDS; i++) runs.push(await timed([process.execPath, CLI, 'run', file, '--out', join(dir, `out-${i}`), '-q'], 'xferbench-launc'));
  const one = { wallMs: median(runs.map((r) => r.wallMs)) };
  const oneRatio = one.wallMs / y.nodeWallMs;
  addRow(`xferbench run, one 1 KiB file by cp (${ROUNDS} runs, median) against node -e 0`, `${one.wallMs.toFixed(0)} ms: ${oneRatio.toFixed(2)} ×`, '≤ 3.5 ×', oneRatio <= 3.5);

  // What a transfer costs the harness beyond a shell loop doing the same work (make the files,
  // cp each, check them: bench/shell-baseline.sh), against one cp's CPU: the file system's own
  // cost, which on this machine varies tenfold within minutes, is then on both sides.
  await endToEnd(join(dir, 'e2e'), tools, [{ files: 1000, size: 1024, concurrency: 10, tool: 'cp', rounds: 5, cpuPerTransferCp: 0.3 }], y, addRow);
}
