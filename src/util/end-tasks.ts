/**
 * What must be over before this process ends. A started thing that outlives every `await using`
 * (the private Podman service, shared by all of a process's runs) registers how to end it, and
 * the command line awaits these before it exits, on every path, signals included. Without the
 * wait, the service was only sent SIGTERM by an 'exit' handler and was sometimes still shutting
 * down after the harness had gone.
 */
const tasks = new Set<() => Promise<void>>();

export function atEnd(task: () => Promise<void>): void {
  tasks.add(task);
}

export async function runEndTasks(): Promise<void> {
  const now = [...tasks];
  tasks.clear();
  await Promise.allSettled(now.map((t) => t()));
}
