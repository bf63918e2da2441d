import type { NetworkInterfaceInfo } from 'node:os';

/**
 * The engine's word for this machine's address on a container network, kept only if it is one
 * of this machine's own interface addresses: a link's relay listens there, and anything else (an
 * unspecified 0.0.0.0, which would put a host's sshd on every network this machine is on; a
 * remote engine's gateway) is refused by the caller with the reason.
 */
export function ownAddress(gateway: string | undefined, interfaces: NodeJS.Dict<NetworkInterfaceInfo[]>): string | undefined {
  const mine = new Set(Object.values(interfaces).flatMap((list) => (list ?? []).map((i) => i.address)));
  return gateway !== undefined && mine.has(gateway) ? gateway : undefined;
}
