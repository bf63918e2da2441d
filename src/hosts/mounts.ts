import { readFile } from 'node:fs/promises';
import { runCommand } from '../process/run-command.js';

/** Mount points at or below `dir` (from /proc/mounts), deepest first. */
export async function mountsBelow(dir: string): Promise<string[]> {
  const text = await readFile('/proc/mounts', 'utf8').catch(() => '');
  // /proc/mounts escapes spaces and the like as \\ooo; xferbench's own paths have none.
  return text
    .split('\n')
    .map((l) => l.split(' ')[1] ?? '')
    .filter((p) => p === dir || p.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
}

/** Unmounts `path`; lazily (detached now, freed when unused) if something still holds it. */
export async function unmount(path: string): Promise<void> {
  if ((await runCommand('umount', [path], { timeoutMs: 10_000 })).exitCode !== 0) await runCommand('umount', ['-l', path], { timeoutMs: 10_000 });
}
