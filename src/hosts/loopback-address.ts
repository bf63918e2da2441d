import { createServer } from 'node:net';

/** Linux routes all of 127.0.0.0/8 to lo; macOS and others only 127.0.0.1 unless aliased. */
let rangeUsable: Promise<boolean> | undefined;

function listenOnce(address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ host: address, port, exclusive: true }, () => {
      const bound = (server.address() as { port: number }).port;
      server.close(() => resolve(bound));
    });
  });
}

export function loopbackRangeUsable(): Promise<boolean> {
  rangeUsable ??= listenOnce('127.0.0.2', 0).then(
    () => true,
    () => false,
  );
  return rangeUsable;
}

/** A port the OS just had free on `address`; sshd may still lose a race for it, so callers retry. */
export function freePort(address: string): Promise<number> {
  return listenOnce(address, 0);
}

/** Host `index` (0-based) of a topology gets 127.0.0.(2+index), or 127.0.0.1 without the range. */
export async function loopbackAddressFor(index: number): Promise<string> {
  return (await loopbackRangeUsable()) && index < 250 ? `127.0.0.${2 + index}` : '127.0.0.1';
}
