import { packageFile } from '../util/package-root.js';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { closeSync, constants as fs, openSync, writeSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { childEnv, runCommand } from './run-command.js';
import { SetupError } from '../util/errors.js';

/** One command for the launcher: argv, optional stdin text, a time limit and a cancel signal. */
export interface LaunchRequest {
  file: string;
  args: readonly string[];
  /** Standard input (sftp batch commands); /dev/null without it. At most 64 KiB. */
  input?: string;
  /** SIGTERM after this, SIGKILL `killAfterMs` later; no limit when absent. */
  timeoutMs?: number;
  /** Abort: SIGTERM, SIGKILL `killAfterMs` later. */
  signal?: AbortSignal;
}

export interface LaunchResult {
  /** performance.now() when the launcher was asked; absent for a tool that runs in process. */
  requestedMs?: number;
  /** performance.now() just before the fork and when the exit was reaped. */
  startMs: number;
  endMs: number;
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  canceled: boolean;
  /** stderr of the command and its descendants up to its exit (last 64 KiB). */
  stderr: string;
  /** The fork or exec failed (e.g. "No such file or directory"). */
  error?: string;
  /** A tool that first sets something up (tool: forward, its port forward): ms until it was ready. */
  setupMs?: number;
}

// Shipped in src/, run from there whatever runs this module.
const SCRIPT = packageFile('src', 'process', 'launcher.pl');
const KILL_AFTER_MS = 2000;
const MAX_INPUT = 64 * 1024;
const SIGNAL_NAMES = new Map(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

interface Pending {
  requestedMs: number;
  resolve: (r: LaunchResult) => void;
  reject: (e: Error) => void;
  cleanup: () => void;
}

/**
 * The launcher's standard input: a named pipe, opened at both ends and unlinked at once, not the
 * socket pair Node makes for 'pipe'. Requests are written to it synchronously, each at once:
 * through a Node stream a write completes on a later turn of the event loop and the next ones
 * wait for it, so on a saturated machine (900 requests at once, this thread waiting seconds for
 * a CPU) they reached the launcher in bursts, seconds apart. The launcher raises the pipe to
 * 1 MiB, about 2,000 requests. Close-on-exec here; when this process ends, however it ends, the
 * launcher reads end of file.
 */
async function requestPipe(): Promise<{ readFd: number; writeFd: number }> {
  const dir = await mkdtemp(join(tmpdir(), 'xb-launcher-'));
  try {
    const path = join(dir, 'requests');
    const made = await runCommand('mkfifo', ['-m', '600', path]);
    if (made.exitCode !== 0) throw new SetupError(`mkfifo ${path} failed (${made.stderr.trim() || `exit ${made.exitCode}`}); it is in coreutils`);
    const readFd = openSync(path, fs.O_RDONLY | fs.O_NONBLOCK);
    try {
      return { readFd, writeFd: openSync(path, fs.O_WRONLY | fs.O_NONBLOCK) };
    } catch (e) {
      closeSync(readFd);
      throw e;
    }
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Starts commands through a small helper process (src/process/launcher.pl) that forks and
 * execs on request and reports each exit with its stderr. Nothing here forks per transfer, so
 * the event loop is free while hundreds of transfers start, and start/end times are those of
 * the fork and the reaping, not of when this thread got round to them. docs/launcher.md says why.
 */
export class Launcher implements AsyncDisposable {
  private readonly pending = new Map<number, Pending>();
  /** Request frames not yet taken by the pipe, in order. */
  private readonly backlog: Buffer[] = [];
  private retry?: NodeJS.Timeout;
  private closed = false;
  private nextId = 1;
  private buffer: Buffer = Buffer.alloc(0);
  private stopping?: Promise<void>;
  private exited = false;
  /** performance.now() minus the monotonic clock, both in ms. */
  private readonly offsetMs = performance.now() - Number(process.hrtime.bigint()) / 1e6;

  private constructor(
    private readonly child: ChildProcessByStdio<null, Readable, null>,
    private readonly requests: number,
  ) {
    child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    child.once('exit', () => {
      this.exited = true;
      this.closeRequests();
      const error = new Error('the xferbench launcher exited');
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    });
  }

  /** Starts the launcher; fails with what to install when perl or Time::HiRes is missing. */
  static async start(perl = 'perl'): Promise<Launcher> {
    const requests = await requestPipe();
    // detached: a session, and so a CPU share under autogroup, of its own (launcher.pl says why).
    const child = spawn(perl, [SCRIPT], { stdio: [requests.readFd, 'pipe', 'inherit'], env: childEnv(), detached: true });
    closeSync(requests.readFd);
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new SetupError(`cannot start perl for the launcher (${e.message}). Install it with: apt-get install -y perl`)));
    }).catch((e: unknown) => {
      closeSync(requests.writeFd);
      throw e;
    });
    const launcher = new Launcher(child as ChildProcessByStdio<null, Readable, null>, requests.writeFd);
    // A first command proves the script compiled (Time::HiRes is in Debian's perl, not perl-base).
    const probe = await launcher.run({ file: 'true', args: [] }).catch(() => undefined);
    if (!probe) {
      await launcher.stop();
      throw new SetupError(`the launcher (perl ${SCRIPT}) did not start; perl said why above. It needs Time::HiRes: apt-get install -y perl`);
    }
    return launcher;
  }

  /** The launcher process (its CPU and run-queue wait are read from /proc: cells/load-watch.ts). */
  get pid(): number | undefined {
    return this.exited ? undefined : this.child.pid;
  }

  run(request: LaunchRequest): Promise<LaunchResult> {
    if (this.exited || this.stopping) return Promise.reject(new Error('the xferbench launcher has stopped'));
    const fields = [request.file, ...request.args, request.input ?? ''];
    if (fields.some((f) => f.includes('\0'))) return Promise.reject(new Error('a command line or input contains a NUL byte'));
    if (Buffer.byteLength(request.input ?? '') > MAX_INPUT) return Promise.reject(new Error(`command input is over ${MAX_INPUT} bytes`));
    const id = this.nextId++;
    const { signal } = request;
    return new Promise<LaunchResult>((resolve, reject) => {
      const onAbort = () => this.send(['kill', String(id), String(KILL_AFTER_MS)]);
      const cleanup = () => signal?.removeEventListener('abort', onAbort);
      this.pending.set(id, { requestedMs: performance.now(), resolve, reject, cleanup });
      this.send(['run', String(id), String(Math.max(0, Math.round(request.timeoutMs ?? 0))), String(KILL_AFTER_MS), request.input ?? '', request.file, ...request.args]);
      if (signal?.aborted) onAbort();
      else signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  private send(fields: string[]): void {
    const body = Buffer.from(fields.join('\0'));
    const head = Buffer.alloc(4);
    head.writeUInt32BE(body.length);
    this.backlog.push(Buffer.concat([head, body]));
    this.flush();
  }

  /** Our end of the requests pipe, closed once: the launcher then reads end of file. */
  private closeRequests(): void {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.retry);
    closeSync(this.requests);
  }

  /** Writes what waits, as far as the pipe takes it; the rest is tried again in a millisecond. */
  private flush(): void {
    if (this.closed) return;
    while (this.backlog.length > 0) {
      const frame = this.backlog[0]!;
      let n: number;
      try {
        n = writeSync(this.requests, frame);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EAGAIN') this.backlog.length = 0; // a dead launcher is reported by 'exit'
        break;
      }
      if (n < frame.length) {
        this.backlog[0] = frame.subarray(n);
        break;
      }
      this.backlog.shift();
    }
    if (this.backlog.length > 0) this.retry ??= setTimeout(() => ((this.retry = undefined), this.flush()), 1);
  }

  private onData(chunk: Buffer): void {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    for (;;) {
      const nl = this.buffer.indexOf(10);
      if (nl < 0) return;
      const [tag, id, start, end, kind, value, timedOut, canceled, errLen] = this.buffer.subarray(0, nl).toString().split(' ');
      const len = Number(errLen);
      if (this.buffer.length < nl + 1 + len) return;
      const stderr = this.buffer.subarray(nl + 1, nl + 1 + len).toString('utf8');
      this.buffer = this.buffer.subarray(nl + 1 + len);
      const p = tag === 'done' ? this.pending.get(Number(id)) : undefined;
      if (!p) continue;
      this.pending.delete(Number(id));
      p.cleanup();
      p.resolve({
        requestedMs: p.requestedMs,
        startMs: Number(start) * 1000 + this.offsetMs,
        endMs: Number(end) * 1000 + this.offsetMs,
        exitCode: kind === 'exit' ? Number(value) : null,
        signal: kind === 'signal' ? (SIGNAL_NAMES.get(Number(value)) ?? null) : null,
        timedOut: timedOut === '1',
        canceled: canceled === '1',
        stderr,
        ...(kind === 'error' ? { error: value!.replace(/_/g, ' ') } : {}),
      });
    }
  }

  /** Ends the launcher: its running commands get SIGTERM, then SIGKILL. Idempotent. */
  stop(): Promise<void> {
    this.stopping ??= new Promise<void>((resolve) => {
      if (this.exited) return resolve(this.closeRequests());
      this.child.once('exit', () => resolve());
      // What still waits goes first: a cancel must reach the launcher before its end of input.
      const end = () => (this.backlog.length > 0 && !this.exited ? void setTimeout(end, 1) : this.closeRequests());
      end();
    });
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
