// The harness's own cost against yardsticks of the same machine, measured in the same run
// (`npm run bench -- cost`): a figure in milliseconds means little on another machine or another
// day (this one's `node -e 0` has taken from 60 to 150 ms), a ratio to what the machine does for
// everyone in the same minute does.
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { percentile } from '../src/report/statistics.js';
import { CLI, timed, type AddRow, type Measured } from './end-to-end.js';

const REPO = join(import.meta.dirname, '..');
const ROUNDS = 11;
const median = (xs: number[]) => percentile(xs, 50)!;

/** Median wall and CPU of `argv` over ROUNDS runs (CPU: the process and everything it waited for). */
async function medianOf(argv: string[]): Promise<{ wallMs: number; cpuMs: number }> {
  const runs: Measured[] = [];
  for (let i = 0; i < ROUNDS; i++) runs.push(await timed(argv, 'none'));
  return { wallMs: median(runs.map((r) => r.wallMs)), cpuMs: median(runs.map((r) => r.cpuMs)) };
}

export async function costBench(root: string, addRow: AddRow): Promise<void> {
  console.error('bench: the harness\'s own cost against yardsticks...');
  const dir = join(root, 'cost');
  await mkdir(dir, { recursive: true });
  // Yardsticks: Node's own start, and one `cp` of a small file (fork + exec + copy), by a shell loop.
  const node = await medianOf([process.execPath, '-e', '0']);
  await writeFile(join(dir, 'a'), Buffer.alloc(1024, 1));
  const loop = await medianOf(['bash', '-c', `cd ${dir} && for i in $(seq 200); do cp -p a b; done`]);
  const cpCpuMs = loop.cpuMs / 200;
  addRow('yardsticks: `node -e 0`; one `cp -p` of 1 KiB by a shell loop (CPU each)', `node ${node.wallMs.toFixed(0)} ms wall, ${node.cpuMs.toFixed(0)} ms CPU; cp ${cpCpuMs.toFixed(2)} ms CPU`, '', undefined);

  const validate = await medianOf([process.execPath, CLI, 'validate', join(REPO, 'scenarios', 'maxstartups.yaml')]);
  const ratio = validate.wallMs / node.wallMs;
  addRow(`xferbench validate maxstartups.yaml (${ROUNDS} runs, median) against node -e 0`, `${validate.wallMs.toFixed(0)} ms: ${ratio.toFixed(2)} ×`, '≤ 2 ×', ratio <= 2);

  const scenario = async (files: number) => {
    const file = join(dir, `cp-${files}.yaml`);
    await writeFile(file, stringify({ name: `cost-${files}`, hosts: { target: { sshd: {} } }, dataset: { files, size: '1KiB', seed: 1 }, transfer: { tool: 'cp', to: 'target', concurrency: 10 }, repeat: 1 }));
    return file;
  };
  const run = async (files: number) => {
    const file = await scenario(files);
    const runs: Measured[] = [];
    for (let i = 0; i < (files > 1 ? 3 : ROUNDS); i++) runs.push(await timed([process.execPath, CLI, 'run', file, '--out', join(dir, `out-${files}-${i}`), '-q'], 'xferbench-launc'));
    return { wallMs: median(runs.map((r) => r.wallMs)), cpuMs: median(runs.map((r) => r.cpuMs)) };
  };
  const one = await run(1);
  const oneRatio = one.wallMs / node.wallMs;
  addRow(`xferbench run, one 1 KiB file by cp (${ROUNDS} runs, median) against node -e 0`, `${one.wallMs.toFixed(0)} ms: ${oneRatio.toFixed(2)} ×`, '≤ 3.5 ×', oneRatio <= 3.5);

  // What a transfer costs the harness beyond its cp and beyond a run's fixed cost.
  const many = await run(1000);
  const perTransfer = (many.cpuMs - one.cpuMs) / 999 - cpCpuMs;
  const share = perTransfer / cpCpuMs;
  addRow('harness CPU per cp transfer: 1,000 × 1 KiB at 10 (3 runs), less the one-file run and a cp each', `${perTransfer.toFixed(2)} ms: ${share.toFixed(2)} × one cp (${many.cpuMs.toFixed(0)} ms CPU in all)`, '≤ 0.3 × one cp', share <= 0.3);
}
