import { createConnection } from 'node:net';
import type { Duplex } from 'node:stream';
import { firstLine } from '../ssh/ssh-banner.js';
import { checkMux, type MuxCheck } from './mux-check.js';
import type { ProbeTarget } from './probe-target.js';
import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Client } from 'ssh2';
import { ssh2Connect, ssh2Tunnel, type Ssh2Target } from '../ssh/ssh2-connect.js';
import { XferbenchError } from '../util/errors.js';
import { percentile } from '../report/statistics.js';


export interface ProbeOptions {
  /** Most connections held or sessions opened at once: the load applied, never exceeded. */
  max: number;
  /** Probe connections per MaxStartups level (each one opened and closed again). */
  trials?: number;
  /** Hard bound on the whole probe. */
  timeoutMs?: number;
  /** The ssh program for the ControlMaster check. */
  ssh?: string;
  /** Most new connections per second (default 50): a probe never floods a login node. */
  rate?: number;
}

export interface MaxStartupsEstimate {
  /** Unauthenticated connections held when the first drop was seen (sshd's `start`). */
  start: number | null;
  /** The level from which every probe was dropped (sshd's `full`); null when --max was reached first. */
  full: number | null;
  /** Drop probability at `start`, in percent (sshd's `rate`), estimated from the trials. */
  rate: number | null;
  /** When `full` lies beyond --max: where the fitted drop line reaches 100 %. */
  full_extrapolated: number | null;
  /** Drops per level: held connections → dropped of trials. */
  levels: { held: number; dropped: number; trials: number }[];
}

export interface ProbeResult {
  target: string;
  /** The jump host it was probed through, if any. */
  via?: string;
  banner: string;
  kex: string;
  cipher: string;
  handshake_ms: { p50: number; p95: number; samples: number };
  /** Session channels one connection could hold open at once; null when --max was reached first. */
  max_sessions: number | null;
  max_sessions_refusal: string | null;
  /** Whether the sftp subsystem started on a session (a hardened host may have none). */
  sftp: boolean;
  max_startups: MaxStartupsEstimate;
  /** Whether a ControlMaster works (through the jump host, if any): a second client used it. */
  mux: MuxCheck;
  /** What was applied, to say so next to the numbers. */
  load: { max_held: number; max_rate: number; connections_opened: number; ms: number };
}

/** New connections per second at most, unless the caller says otherwise. */
export const DEFAULT_RATE = 50;

/** Tries to add one held connection at a level before calling the next level full. */
const KEEP_ATTEMPTS = 50;

/**
 * Tries at the k-th level from the first drop: RATE_TRIALS / k (at least --trials). The first
 * levels past `start` carry most of the weight of the `rate` fit; at 12 tries a level's drop
 * share has a standard error of 14 points at 50 %, at 64 of 6 (docs/probe.md).
 */
const RATE_TRIALS = 64;

/**
 * How the probe reaches the target's sshd port: straight, or as channels forwarded by one logged-in
 * connection to a jump host (what `ssh -J` does), so the target sees the jump host connecting.
 */
interface Reach {
  /** A new connection to the target's port; rejects when it cannot be made at all. */
  connect(): Promise<Duplex>;
  close(): void;
}

function directReach(target: ProbeTarget): Reach {
  return { connect: async () => createConnection({ host: target.address, port: target.port }), close: () => undefined };
}

async function jumpReach(target: ProbeTarget, jump: Ssh2Target, privateKey: Buffer): Promise<Reach> {
  const { client } = await login(jump, privateKey, undefined, 'the jump host');
  // Each try is a few small packets each way: Nagle and delayed ACKs added ~40 ms to each.
  client.setNoDelay(true);
  return {
    connect: () => ssh2Tunnel(client, target.address, target.port),
    close: () => client.end(),
  };
}

/** A bare connection and sshd's banner, or no banner if sshd dropped it (or it could not be made). */
async function openRaw(reach: Reach, timeoutMs: number): Promise<{ socket: Duplex | undefined; banner: string | undefined }> {
  const stream = await reach.connect().catch(() => undefined);
  if (!stream) return { socket: undefined, banner: undefined };
  const { socket, line } = await firstLine(stream, timeoutMs);
  return { socket, banner: line?.startsWith('SSH-') ? line : undefined };
}

/**
 * Ends a probe connection and, if sshd had accepted it, waits until sshd has closed its side:
 * sshd counts the connection as a startup until its child exits, and a level must count only
 * the connections held on purpose.
 */
async function release(socket: Duplex | undefined, accepted: boolean): Promise<void> {
  if (!socket) return;
  if (!accepted || socket.destroyed) {
    socket.destroy();
    return;
  }
  await new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve();
    }, 1000);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    socket.resume();
    socket.end();
  });
  // The child's exit reaches the listener through a pipe it polls: let it catch up.
  await sleep(2);
}

/** An authenticated ssh2 connection (through `reach` if given); rejects with a clear error on refusal or a wrong host key. */
async function login(target: Ssh2Target, privateKey: Buffer, reach?: Reach, what = ''): Promise<{ client: Client; ms: number; kex: string; cipher: string }> {
  const t0 = performance.now();
  const name = `${what ? `${what} ` : ''}${target.user}@${target.address}:${target.port}`;
  const sock = reach ? await reach.connect().catch((e: Error) => {
    throw new XferbenchError(`cannot reach ${name} through the jump host: ${e.message}`);
  }) : undefined;
  const { client, ready } = await ssh2Connect(target, privateKey, 15_000, sock);
  let negotiated = { kex: '', cipher: '' };
  client.on('handshake', (n: { kex: string; cs: { cipher: string } }) => (negotiated = { kex: n.kex, cipher: n.cs.cipher }));
  try {
    await ready;
  } catch (e) {
    client.end();
    const refused = (e as { level?: string }).level === 'client-authentication' ? ' (the key was refused)' : '';
    throw new XferbenchError(`cannot log in to ${name}: ${(e as Error).message}${refused}`);
  }
  return { client, ms: performance.now() - t0, ...negotiated };
}

/** What ssh2 says when the channel opened but sshd has no such subsystem (no `Subsystem sftp` line). */
const NO_SUBSYSTEM = /^Unable to start subsystem/;

/**
 * MaxSessions: session channels opened one by one over one connection until sshd refuses one
 * (`Channel open failure`), at most `max`. sshd counts a session when its channel opens, before
 * any request, as it does for a multiplexed ssh's sessions; each asks for the sftp subsystem,
 * which a hardened host may not have: then the channel stays open (sshd refuses only the request)
 * and still counts. Whether sftp started is said on its own. The channels close with the
 * connection (the caller ends it).
 */
async function probeMaxSessions(client: Client, max: number): Promise<{ count: number | null; refusal: string | null; sftp: boolean }> {
  let opened = 0;
  let sftp = true;
  for (let i = 0; i < max; i++) {
    try {
      await new Promise<void>((resolve, reject) => client.sftp((err) => (err ? reject(err) : resolve())));
    } catch (e) {
      if (!NO_SUBSYSTEM.test((e as Error).message)) return { count: opened, refusal: (e as Error).message, sftp: sftp && opened > 0 };
      sftp = false;
    }
    opened++;
  }
  return { count: null, refusal: null, sftp };
}

/** One connection attempt: accepted when sshd sent its banner; `close` ends it (see release). */
export interface StartupAttempt {
  accepted: boolean;
  close(): Promise<void>;
}

/** A bare connection to the target, closed with `release`. */
function rawAttempt(reach: Reach): () => Promise<StartupAttempt> {
  return async () => {
    const { socket, banner } = await openRaw(reach, 3000);
    return { accepted: banner !== undefined, close: () => release(socket, banner !== undefined) };
  };
}

/**
 * MaxStartups: hold n unauthenticated connections (banner read, nothing sent), then open `trials`
 * more one at a time and count how many sshd drops before its banner; n = 0, 1, ... up to `max`.
 * sshd drops with probability 0 below `start`, `rate`% at `start`, rising linearly to 100% at
 * `full` (sshd.c drop_connection). Every connection is closed before returning. `open` makes one
 * attempt: a real connection, or sshd's rule in a unit test.
 */
export async function probeMaxStartups(open: () => Promise<StartupAttempt>, max: number, trials: number, deadline: number): Promise<MaxStartupsEstimate> {
  const held: StartupAttempt[] = [];
  const levels: MaxStartupsEstimate['levels'] = [];
  let full: number | undefined;
  try {
    for (let n = 0; n < max && Date.now() < deadline; n++) {
      let dropped = 0;
      let tried = 0;
      const tryOnce = async () => {
        const probe = await open();
        tried++;
        if (!probe.accepted) dropped++;
        await probe.close();
      };
      while (tried < trials) await tryOnce();
      // Past the first drop, a level that is not all dropped gets more tries (see RATE_TRIALS).
      const firstDrop = levels.find((l) => l.dropped > 0)?.held ?? (dropped > 0 ? n : undefined);
      if (firstDrop !== undefined && dropped < tried) {
        const want = Math.max(trials, Math.ceil(RATE_TRIALS / (n - firstDrop + 1)));
        while (tried < want && Date.now() < deadline) await tryOnce();
      }
      const level = { held: n, dropped, trials: tried };
      levels.push(level);
      // A level where every try was dropped is full only if the next one is too (or cannot be
      // reached): at 70 % a run of 12 drops happens one time in fifty.
      const previous = levels.at(-2);
      if (dropped === tried && previous !== undefined && previous.dropped === previous.trials) {
        full = previous.held;
        break;
      }
      // One more held connection for the next level. Near `full` sshd drops most tries, and
      // each try is one more sample of this level (bounded).
      for (let attempt = 0; attempt < KEEP_ATTEMPTS && held.length === n; attempt++) {
        const keep = await open();
        level.trials++;
        if (keep.accepted) held.push(keep);
        else {
          level.dropped++;
          await keep.close();
        }
      }
      if (held.length !== n + 1) {
        // Not one of KEEP_ATTEMPTS got through: this level (if every try was dropped) or the
        // next is full for all practical purposes.
        full = level.dropped === level.trials ? n : n + 1;
        break;
      }
    }
  } finally {
    await Promise.all(held.map((h) => h.close()));
  }
  // Stopped by --max or the time limit right after a first all-dropped level: take it, unconfirmed.
  const last = levels.at(-1);
  if (full === undefined && last && last.dropped === last.trials) full = last.held;
  const first = levels.find((l) => l.dropped > 0);
  if (!first) return { start: null, full: null, rate: null, full_extrapolated: null, levels };
  if (full !== undefined) return { start: first.held, full, rate: estimateRate(levels, first.held, full), full_extrapolated: null, levels };
  const line = fitLine(levels.filter((l) => l.held >= first.held).map((l) => [l.held - first.held, (100 * l.dropped) / l.trials] as const));
  return {
    start: first.held,
    full: null,
    rate: Math.round(Math.max(0, Math.min(100, line?.a ?? (100 * first.dropped) / first.trials))),
    full_extrapolated: line && line.b > 0 ? Math.round(first.held + (100 - line.a) / line.b) : null,
    levels,
  };
}

/** Least squares p = a + b·x; undefined with fewer than three points. */
function fitLine(points: readonly (readonly [number, number])[]): { a: number; b: number } | undefined {
  if (points.length < 3) return undefined;
  const n = points.length;
  const mx = points.reduce((s, [x]) => s + x, 0) / n;
  const my = points.reduce((s, [, y]) => s + y, 0) / n;
  const sxx = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  const b = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0) / sxx;
  return { a: my - b * mx, b };
}

/**
 * sshd's `rate` from every level between start and full, not from the start level alone:
 * p(n) = rate + (100 - rate)(n - start)/(full - start), so p(n) - 100x = rate(1 - x) with
 * x = (n - start)/(full - start); least squares over the levels gives rate.
 */
export function estimateRate(levels: readonly { held: number; dropped: number; trials: number }[], start: number, full: number | undefined): number {
  const at = (l: { dropped: number; trials: number }) => (100 * l.dropped) / l.trials;
  if (full === undefined || full <= start) return Math.round(at(levels.find((l) => l.held === start)!));
  let num = 0;
  let den = 0;
  for (const l of levels) {
    if (l.held < start || l.held >= full) continue;
    const x = (l.held - start) / (full - start);
    num += (at(l) - 100 * x) * (1 - x);
    den += (1 - x) ** 2;
  }
  return Math.max(0, Math.min(100, Math.round(num / den)));
}

/**
 * Learns a live sshd's effective limits from the outside: MaxSessions exactly, MaxStartups'
 * start, rate and full from drop probabilities, plus its version, negotiated algorithms and
 * handshake times. The load is bounded by `max` (connections held or channels open at once) and a
 * time limit, and nothing it opened is left open when it returns.
 */
export async function probeHost(target: ProbeTarget, options: ProbeOptions): Promise<ProbeResult> {
  if (!Number.isInteger(options.max) || options.max < 1) throw new XferbenchError('--max must be a whole number of at least 1');
  const t0 = performance.now();
  const deadline = Date.now() + (options.timeoutMs ?? 120_000);
  let opened = 0;
  const privateKey = await readFile(target.privateKeyPath).catch((e: NodeJS.ErrnoException) => {
    throw new XferbenchError(`cannot read the key ${target.privateKeyPath}: ${e.code ?? e.message}`);
  });
  const where = `${target.address}:${target.port}${target.via ? ` through ${target.via.address}:${target.via.port}` : ''}`;
  if (target.via) opened++;
  const reach = target.via ? await jumpReach(target, target.via, privateKey) : directReach(target);
  try {
    const banner = await openRaw(reach, 5000);
    opened++;
    banner.socket?.destroy();
    if (!banner.banner) throw new XferbenchError(`${where} did not answer with an SSH banner (not reachable, or not sshd)`);

    // Handshake times: a few logins one after another, not at once.
    const samples: number[] = [];
    let negotiated = { kex: '', cipher: '' };
    for (let i = 0; i < 5; i++) {
      opened++;
      const l = await login(target, privateKey, target.via ? reach : undefined);
      samples.push(l.ms);
      negotiated = { kex: l.kex, cipher: l.cipher };
      l.client.end();
    }

    opened++;
    const session = await login(target, privateKey, target.via ? reach : undefined);
    let sessions: { count: number | null; refusal: string | null; sftp: boolean };
    try {
      sessions = await probeMaxSessions(session.client, options.max);
    } finally {
      session.client.end();
    }
    const raw = rawAttempt(reach);
    const interval = 1000 / (options.rate ?? DEFAULT_RATE);
    let next = 0;
    const startups = await probeMaxStartups(
      async () => {
        const wait = next - performance.now();
        if (wait > 0) await sleep(wait);
        next = performance.now() + interval;
        opened++;
        return raw();
      },
      options.max,
      options.trials ?? 12,
      deadline,
    );
    // The master's connection (and its hop to the jump host); the second client rides on it.
    opened += target.via ? 2 : 1;
    const mux = await checkMux(target, options.ssh ?? 'ssh');
    const round = (x: number) => Math.round(x * 10) / 10;
    return {
      target: `${target.user}@${target.address}:${target.port}`,
      ...(target.via ? { via: `${target.via.user}@${target.via.address}:${target.via.port}` } : {}),
      banner: banner.banner,
      ...negotiated,
      handshake_ms: { p50: round(percentile(samples, 50)!), p95: round(percentile(samples, 95)!), samples: samples.length },
      max_sessions: sessions.count,
      max_sessions_refusal: sessions.refusal,
      sftp: sessions.sftp,
      max_startups: startups,
      mux,
      load: { max_held: options.max, max_rate: options.rate ?? DEFAULT_RATE, connections_opened: opened, ms: Math.round(performance.now() - t0) },
    };
  } finally {
    reach.close();
  }
}
