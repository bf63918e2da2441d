import { readdir, readFile } from 'node:fs/promises';

/**
 * Direct children of `pid`, read from /proc (Linux). sshd's per-connection children call
 * setsid(), so they leave sshd's process group and must be found by parent pid instead.
 * Returns [] where /proc is not available.
 */
export async function childPids(pid: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const children: number[] = [];
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        try {
          const stat = await readFile(`/proc/${e}/stat`, 'utf8');
          // Field 4 (ppid) follows the parenthesised command, which may itself contain spaces.
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          if (ppid === pid) children.push(Number(e));
        } catch {
          // the process ended while we looked
        }
      }),
  );
  return children;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function signal(pid: number, sig: NodeJS.Signals): void {
  try {
    process.kill(pid, sig);
  } catch {
    // already gone
  }
}
