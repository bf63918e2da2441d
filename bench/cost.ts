// The harness's own cost against this machine's yardsticks (bench/yardsticks.ts), measured in
// the same run (`npm run bench -- cost`).
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { OpenSshTools } from '../src/ssh/openssh-tools.js';
import { CLI, endToEnd, type AddRow } from './end-to-end.js';
import { againstNodeStart, measureYardsticks, ROUNDS } from './yardsticks.js';

const REPO = join(import.meta.dirname, '..');

export async function costBench(root: string, tools: OpenSshTools, addRow: AddRow): Promise<void> {
  console.error('bench: the harness\'s own cost against yardsticks...');
  const dir = join(root, 'cost');
  await mkdir(dir, { recursive: true });

  // Each against node -e 0 run beside it (pairs, alternating), not the yardstick of the bench's start.
  const validate = await againstNodeStart(() => [process.execPath, CLI, 'validate', join(REPO, 'scenarios', 'maxstartups.yaml')]);
  addRow(`xferbench validate maxstartups.yaml against node -e 0 (${ROUNDS} pairs, median ratio)`, `${validate.wallMs.toFixed(0)} vs ${validate.nodeMs.toFixed(0)} ms: ${validate.ratio.toFixed(2)} ×`, '≤ 2 ×', validate.ratio <= 2);

  const file = join(dir, 'cp-1.yaml');
  await writeFile(file, stringify({ name: 'cost-1', hosts: { target: { sshd: {} } }, dataset: { files: 1, size: '1KiB', seed: 1 }, transfer: { tool: 'cp', to: 'target', concurrency: 10 }, repeat: 1 }));
  const one = await againstNodeStart((i) => [process.execPath, CLI, 'run', file, '--out', join(dir, `out-${i}`), '-q'], ROUNDS, 'xferbench-launc');
  addRow(`xferbench run, one 1 KiB file by cp, against node -e 0 (${ROUNDS} pairs, median ratio)`, `${one.wallMs.toFixed(0)} vs ${one.nodeMs.toFixed(0)} ms: ${one.ratio.toFixed(2)} ×`, '≤ 3.5 ×', one.ratio <= 3.5);

  // What a transfer costs the harness beyond a shell loop doing the same work (make the files,
  // cp each, check them: bench/shell-baseline.sh), against one cp's CPU: the file system's own
  // cost, which on this machine varies tenfold within minutes, is then on both sides.
  // The cp yardstick is measured again just before: a minute can change it by half here.
  await endToEnd(join(dir, 'e2e'), tools, [{ files: 1000, size: 1024, concurrency: 10, tool: 'cp', rounds: 5, cpuPerTransferCp: 0.3 }], await measureYardsticks(dir), addRow);
}
