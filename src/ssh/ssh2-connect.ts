import { connect, Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import type { Connection } from '../records/transfer-record.js';
import type { Client } from 'ssh2';

/** Where a client connects without the ssh binary: the host's address, a key it accepts, the host keys to trust. */
export interface Ssh2Target {
  address: string;
  port: number;
  user: string;
  privateKeyPath: string;
  /** Public host key lines (`ssh-ed25519 AAAA...`, as in known_hosts after the host field). */
  hostKeys: readonly string[];
}

const keyBlob = (line: string) => line.trim().split(/\s+/)[1] ?? '';

/**
 * An ssh2 connection that logs in with `privateKey` and accepts only the host's own keys
 * (pinned, as the generated known_hosts does). `ready` settles when it is logged in or failed.
 * `sock` is a stream already connected to the host (a channel through a jump host).
 */
export async function ssh2Connect(target: Ssh2Target, privateKey: Buffer, readyTimeoutMs: number, through?: Duplex): Promise<{ client: Client; ready: Promise<void>; connection(): Connection | undefined }> {
  // Loaded when first used: ssh2 costs ~45 ms to import, which no other tool or command needs.
  const { Client } = await import('ssh2');
  const allowed = new Set(target.hostKeys.map(keyBlob));
  const client = new Client();
  const ready = new Promise<void>((resolve, reject) => {
    client.once('ready', () => resolve());
    client.once('error', reject);
  });
  // Our own socket, so that its local port is known, as the connector makes ssh's known.
  // Without TCP_NODELAY, SFTP's request-reply rounds wait on delayed ACKs: ~1 MB/s on loopback.
  const sock = through ?? connect({ host: target.address, port: target.port, noDelay: true });
  let connection: Connection | undefined;
  if (sock instanceof Socket) {
    sock.once('connect', () => {
      connection = { local: { address: sock.localAddress ?? '', port: sock.localPort ?? 0 }, remote: { address: sock.remoteAddress ?? target.address, port: sock.remotePort ?? target.port } };
    });
  }
  client.connect({
    host: target.address,
    port: target.port,
    username: target.user,
    privateKey,
    hostVerifier: (key: Buffer) => allowed.has(key.toString('base64')),
    readyTimeout: readyTimeoutMs,
    sock,
  });
  return { client, ready, connection: () => connection };
}

/** A stream to `address:port` as seen from `through` (a logged-in jump host), like `ssh -J`'s hop. */
export function ssh2Tunnel(through: Client, address: string, port: number): Promise<Duplex> {
  return new Promise((resolve, reject) => through.forwardOut('127.0.0.1', 0, address, port, (err, channel) => (err ? reject(err) : resolve(channel))));
}
