import { connect, type Socket } from 'node:net';

/**
 * Connects and reads the first line the server sends. The line is undefined if the connection
 * fails, closes or stays silent past the timeout. The socket is left to the caller: a probe keeps
 * it open, since sshd counts it as an unauthenticated connection until it closes.
 */
export function openBanner(host: string, port: number, timeoutMs: number): Promise<{ socket: Socket; line: string | undefined }> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    let data = '';
    const done = (line: string | undefined) => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      resolve({ socket, line });
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    socket.on('error', () => done(undefined));
    socket.on('close', () => done(undefined));
    socket.on('data', (chunk) => {
      data += chunk.toString('latin1');
      const end = data.indexOf('\n');
      if (end >= 0) done(data.slice(0, end).trim());
    });
  });
}

/** Reads the first line a server sends and closes the connection. */
export async function readBanner(host: string, port: number, timeoutMs: number): Promise<string | undefined> {
  const { socket, line } = await openBanner(host, port, timeoutMs);
  socket.destroy();
  return line;
}
