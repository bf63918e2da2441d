import { basename } from 'node:path';
import type { CommandWrapper } from '../host.js';
import type { LoginAccount } from '../login-account.js';

export interface ContainerExecTarget {
  containerId: string;
  /** The container's init process on this machine (0 when the engine runs elsewhere). */
  pid: number;
  account: LoginAccount;
  /** nsenter(1), when we may use it (root, engine on this machine). */
  nsenter?: string;
  /** The engine's CLI (docker or podman), the fallback. */
  cli?: string;
}

/**
 * How client commands run inside a container. Preferred: nsenter into the container's mount,
 * network, UTS and IPC namespaces. That is a plain fork and exec, as cheap as a local transfer,
 * and the process stays our child, so timeouts and Ctrl-C reach it. `podman exec` costs a
 * runtime start per command (measured: 60 rsyncs from two workers took 11 s each at the
 * median, and the spread-out connection starts hid the head's MaxStartups drops).
 */
export function containerCommandWrapper(t: ContainerExecTarget): CommandWrapper | undefined {
  if (t.nsenter && t.pid > 0) {
    const { nsenter, pid, account } = t;
    // -r/-w: the container's root and working directory; the program is found on its PATH.
    return (command) => ({
      file: nsenter,
      args: ['-t', String(pid), '-m', '-u', '-i', '-n', '-r', '-w', `--setgid=${account.gid}`, `--setuid=${account.uid}`, '--', basename(command.file), ...command.args],
      ...(command.input !== undefined ? { input: command.input } : {}),
    });
  }
  const cli = t.cli;
  if (!cli) return undefined;
  return (command, timeoutMs) => {
    // Killing the exec client outside does not reach the process inside: `timeout` bounds it there.
    const bounded = timeoutMs ? ['timeout', '-k', '2', `${Math.ceil(timeoutMs / 1000)}s`] : [];
    return {
      file: cli,
      args: ['exec', ...(command.input !== undefined ? ['-i'] : []), '--user', `${t.account.uid}:${t.account.gid}`, t.containerId, ...bounded, basename(command.file), ...command.args],
      ...(command.input !== undefined ? { input: command.input } : {}),
    };
  };
}
