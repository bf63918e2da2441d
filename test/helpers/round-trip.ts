import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Duplex } from 'node:stream';
import { execa } from 'execa';
import type { SFTPWrapper } from 'ssh2';
import { ssh2Connect, type Ssh2Target } from '../../src/ssh/ssh2-connect.js';
import type { HostEndpoint } from '../../src/hosts/host.js';

/** The process listening at an address and port of this machine, by its command name (ss -p); '' when none. */
export async function listenerOf(e: HostEndpoint): Promise<string> {
  const r = await execa('ss', ['-Hltnp', `src ${e.address}:${e.port}`]);
  return /users:\(\("([^"]+)"/.exec(r.stdout)?.[1] ?? r.stdout;
}

/**
 * Logs in to `target` (directly, or over `through`, a channel from a jump host) and times 20 SFTP
 * request–reply rounds: each is one round trip, so the fastest is the path's own (load only adds
 * to it). The login, several round trips, is timed too.
 */
export async function sftpRoundTrips(target: Ssh2Target, through?: Duplex): Promise<{ loginMs: number; fastestMs: number; all: number[] }> {
  const { client, ready } = await ssh2Connect(target, await readFile(target.privateKeyPath), 15_000, through);
  try {
    const t0 = performance.now();
    await ready;
    const loginMs = performance.now() - t0;
    const sftp = await new Promise<SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
    const all: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      await new Promise<void>((resolve, reject) => sftp.realpath('.', (err) => (err ? reject(err) : resolve())));
      all.push(performance.now() - t);
    }
    return { loginMs, fastestMs: Math.min(...all), all };
  } finally {
    client.end();
  }
}

/**
 * The fastest round trip is the link's own: never shorter than configured (the relay delivers no
 * byte before it is due), at most 10 % over it plus 1 ms (the measuring's own turn).
 */
export function assertRoundTrip(r: { fastestMs: number; all: number[] }, rttMs: number, path: string): void {
  assert.ok(r.fastestMs >= rttMs && r.fastestMs <= rttMs * 1.1 + 1, `${path}: fastest round trip ${r.fastestMs.toFixed(2)} ms for ${rttMs} ms configured: ${r.all.map((x) => x.toFixed(1)).join(' ')}`);
}
