import { readdir, readFile } from 'node:fs/promises';

/**
 * Every descendant of `pid` (children, grandchildren...), read from /proc (Linux). sshd's
 * per-connection children call setsid(), leaving sshd's process group, and the session's
 * shell and `rsync --server` sit below them: only the parent chain finds them all.
 * Returns [] where /proc is not available.
 */
export async function descendantPids(pid: number): Promise<number[]> {
  let entries: string[];
  try {
    entries = await readdir('/proc');
  } catch {
    return [];
  }
  const childrenOf = new Map<number, number[]>();
  await Promise.all(
    entries
      .filter((e) => /^\d+$/.test(e))
      .map(async (e) => {
        try {
          const stat = await readFile(`/proc/${e}/stat`, 'utf8');
          // Field 4 (ppid) follows the parenthesised command, which may itself contain spaces.
          const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
          childrenOf.set(ppid, [...(childrenOf.get(ppid) ?? []), Number(e)]);
        } catch {
          // the process ended while we looked
        }
      }),
  );
  const out: number[] = [];
  for (let queue = [pid]; queue.length > 0; ) {
    const next = childrenOf.get(queue.shift()!) ?? [];
    out.push(...next);
    queue.push(...next);
  }
  return out;
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
