import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

/**
 * Connects and reads the first line the server sends. The line is undefined if the connection
 * fails, closes or stays silent past the timeout. The socket is left to the caller: a probe keeps
 * it open, since sshd counts it as an unauthenticated connection until it closes.
 */
export function openBanner(host: string, port: number, timeoutMs: number): Promise<{ socket: Socket; line: string | undefined }> {
  return firstLine(connect({ host, port }), timeoutMs);
}

/** The first line `stream` delivers (a socket, or a channel forwarded through a jump host), as openBanner. */
export function firstLine<S extends Duplex>(stream: S, timeoutMs: number): Promise<{ socket: S; line: string | undefined }> {
  return new Promise((resolve) => {
    let data = '';
    const done = (line: string | undefined) => {
      clearTimeout(timer);
      stream.removeAllListeners('data');
      resolve({ socket: stream, line });
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    stream.on('error', () => done(undefined));
    stream.on('close', () => done(undefined));
    stream.on('data', (chunk: Buffer) => {
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
