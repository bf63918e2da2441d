import { readFileSync } from 'node:fs';

/**
 * How many times a listening socket's accept queue overflowed (TcpExt ListenOverflows in
 * /proc/net/netstat), machine-wide, since boot. sshd listens with a backlog of 128 (OpenSSH's
 * SSH_LISTEN_BACKLOG, docs/launcher.md): hundreds of connects at once overflow it, and a handshake
 * that overflows is dropped or reset before sshd sees it, so its log says nothing of it.
 */
export function listenOverflows(): number | undefined {
  try {
    const lines = readFileSync('/proc/net/netstat', 'utf8').split('\n');
    for (let i = 0; i + 1 < lines.length; i += 2) {
      const [names, values] = [lines[i]!.split(' '), lines[i + 1]!.split(' ')];
      if (names[0] !== 'TcpExt:') continue;
      const at = names.indexOf('ListenOverflows');
      return at > 0 ? Number(values[at]) : undefined;
    }
    return undefined;
  } catch {
    return undefined;
  }
}
