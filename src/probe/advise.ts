import type { ProbeResult } from './probe.js';

/** The work a site wants to stage: files of a size. */
export interface Workload {
  files: number;
  /** Bytes per file. */
  size: number;
}

export interface Recommendation {
  /** What to set, e.g. `transfer.concurrency: 8`. */
  setting: string;
  /** Why: the measurement it rests on. */
  because: string;
}

/** The client settings as scenario fields, for `advise --verify` to run. */
export interface AdvisedTransfer {
  mux: 'off' | 'warm';
  concurrency: number;
  retries: number;
  backoff_ms: number;
  ssh_options: { ConnectTimeout: number };
  rsync_args: string[];
}

export interface Advice {
  /** Settings for the transfer side, which anyone can apply. */
  client: Recommendation[];
  transfer: AdvisedTransfer;
  /** What the settings promise on a server with no other users: the share of files lost after retries. */
  promise: { failure_rate: number };
  /** sshd_config values that would carry the load, for whoever administers the server. */
  server: Recommendation[];
  /** What the advice could not rest on (a limit above the probe's --max). */
  caveats: string[];
}

/** Share of a measured limit left to other users of the same server. */
const HEADROOM = 0.2;

/**
 * Settings that should not drop files at this site, each named with the measurement it rests on.
 * Pure: the probe measured, this only reasons. Connection starts are what MaxStartups limits;
 * sessions on one connection are what MaxSessions limits.
 */
export function advise(probe: ProbeResult, work: Workload): Advice {
  const client: Recommendation[] = [];
  const server: Recommendation[] = [];
  const caveats: string[] = [];
  const s = probe.max_startups;
  const held = probe.load.max_held;

  // Connection starts at once: below MaxStartups start nothing was dropped; leave room for others.
  const startCap = s.start === null ? held : Math.max(1, Math.floor(s.start * (1 - HEADROOM)));
  if (s.start === null) caveats.push(`no MaxStartups drop up to ${held} held connections: start is above that, so ${held} is a floor, not the limit`);
  const startsBecause = s.start === null ? `no drop while ${held} unauthenticated connections were held` : `MaxStartups start measured at ${s.start} (nothing dropped below it), ${Math.round(HEADROOM * 100)} % left to other users`;

  // Sessions on one warm master: MaxSessions - 1 never refused in this project's runs (README, mux).
  const sessions = probe.max_sessions;
  const muxCap = sessions === null ? held : sessions - 1;
  if (sessions === null) caveats.push(`no MaxSessions refusal up to ${held} channels: the limit is above that`);

  // Sessions were counted on plain channels: a host without sftp still carries a master's sessions.
  if (probe.sftp === false) caveats.push('the host has no sftp subsystem: use rsync (or scp -O); tool: sftp, ssh2-sftp and OpenSSH 9\'s scp, which speaks SFTP, cannot run there');

  // A master the probe could not use (a jump host refusing forwarding, say) is no option.
  const muxWorks = probe.mux?.ok !== false;
  if (!muxWorks) caveats.push(`multiplexing did not work${probe.via ? ` through ${probe.via}` : ''}: ${probe.mux!.detail}`);
  const warm = muxWorks && muxCap >= 2 && muxCap >= startCap;
  const concurrency = Math.min(warm ? muxCap : startCap, work.files);
  if (warm) {
    client.push({
      setting: `transfer.mux: warm, transfer.concurrency: ${concurrency}`,
      because: `MaxSessions measured at ${sessions ?? `${held}+`}: one warm master carries ${muxCap} sessions at once, and opens one connection, not one per file`,
    });
  } else {
    client.push({ setting: `transfer.mux: off, transfer.concurrency: ${concurrency}`, because: startsBecause });
  }
  client.push({
    setting: 'mux: never cold',
    because: 'concurrent first connections race to become the master (ControlSocket ... already exists) and the losers connect directly, past any cap',
  });

  // Batching: fewer connection starts for many small files.
  const perStart = Math.ceil(work.files / startCap);
  if (perStart >= 10) {
    client.push({
      setting: `batch ${perStart} files per connection (rsync --files-from lists, fpsync -f ${perStart}; tool: command with unit: batch)`,
      because: `${work.files} files over ${startCap} connection starts at a time: one connection per file would start ${work.files} connections against a start limit of ${s.start ?? `${held}+`}`,
    });
  }

  // Retries with full jitter ride out a drop; timeouts from the measured handshake.
  const connectTimeout = Math.max(10, Math.ceil((probe.handshake_ms.p95 * 20) / 1000));
  client.push({
    setting: 'transfer.retries: 3, transfer.backoff_ms: 250 (doubling, full jitter)',
    because: s.rate === null ? 'a drop is still possible when other users fill the start slots' : `at start a connection is dropped with ~${s.rate} % probability; three jittered retries leave ~${Math.round((s.rate / 100) ** 4 * 1000) / 10} % of those`,
  });
  // ssh's ConnectTimeout bounds the connection; rsync's --contimeout is for its daemon only.
  const ioTimeout = Math.max(60, Math.ceil((work.size / 1e6) * 2));
  client.push({
    setting: `transfer.ssh_options: { ConnectTimeout: ${connectTimeout} }, transfer.rsync_args: [--timeout=${ioTimeout}]`,
    because: `handshake + login p95 measured at ${probe.handshake_ms.p95} ms; 20 × that, at least 10 s; no data for ${ioTimeout} s (2 s per MB, at least 60) ends a stalled transfer`,
  });

  // For the administrator: limits that carry the wanted concurrency with the same headroom.
  const wanted = Math.min(work.files, 64);
  const begin = Math.ceil(wanted / (1 - HEADROOM));
  server.push({
    setting: `MaxStartups ${begin}:30:${begin * 2}`,
    because: `${wanted} connection starts at once with ${Math.round(HEADROOM * 100)} % headroom; measured now: ${s.start === null ? `above ${held}` : `${s.start}:${s.rate}:${s.full ?? (s.full_extrapolated !== null ? `~${s.full_extrapolated}` : '?')}`}`,
  });
  server.push({
    setting: `MaxSessions ${Math.max(sessions ?? 0, wanted + 1)}`,
    because: `a warm master carrying ${wanted} transfers needs ${wanted + 1} sessions (one spare); measured now: ${sessions ?? `above ${held}`}`,
  });
  const transfer: AdvisedTransfer = { mux: warm ? 'warm' : 'off', concurrency, retries: 3, backoff_ms: 250, ssh_options: { ConnectTimeout: connectTimeout }, rsync_args: [`--timeout=${ioTimeout}`] };
  // Below MaxStartups start (or within MaxSessions on one master) sshd refuses nothing.
  return { client, transfer, promise: { failure_rate: 0 }, server, caveats };
}

export function renderAdvice(a: Advice): string {
  const lines = (rs: Recommendation[]) => rs.map((r) => `  - ${r.setting}\n      because ${r.because}`);
  return [
    'transfer settings:',
    ...lines(a.client),
    'if you administer the server:',
    ...lines(a.server),
    ...(a.caveats.length > 0 ? ['caveats:', ...a.caveats.map((c) => `  - ${c}`)] : []),
  ].join('\n');
}
