import { packageFile } from '../util/package-root.js';
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { constants } from 'node:os';
import type { Readable, Writable } from 'node:stream';
import { childEnv } from './run-command.js';
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
 * Starts commands through a small helper process (src/process/launcher.pl) that forks and
 * execs on request and reports each exit with its stderr. Nothing here forks per transfer, so
 * the event loop is free while hundreds of transfers start, and start/end times are those of
 * the fork and the reaping, not of when this thread got round to them. docs/launcher.md says why.
 */
export class Launcher implements AsyncDisposable {
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private buffer: Buffer = Buffer.alloc(0);
  private stopping?: Promise<void>;
  private exited = false;
  /** performance.now() minus the monotonic clock, both in ms. */
  private readonly offsetMs = performance.now() - Number(process.hrtime.bigint()) / 1e6;

  private constructor(private readonly child: ChildProcessByStdio<Writable, Readable, null>) {
    child.stdout.on('data', (chunk: Buffer) => this.onData(chunk));
    child.once('exit', () => {
      this.exited = true;
      const error = new Error('the xferbench launcher exited');
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    });
    child.stdin.on('error', () => undefined); // a dead launcher is reported by 'exit'
  }

  /** Starts the launcher; fails with what to install when perl or Time::HiRes is missing. */
  static async start(perl = 'perl'): Promise<Launcher> {
    const child = spawn(perl, [SCRIPT], { stdio: ['pipe', 'pipe', 'inherit'], env: childEnv() });
    await new Promise<void>((resolve, reject) => {
      child.once('spawn', resolve);
      child.once('error', (e) => reject(new SetupError(`cannot start perl for the launcher (${e.message}). Install it with: apt-get install -y perl`)));
    });
    const launcher = new Launcher(child);
    // A first command proves the script compiled (Time::HiRes is in Debian's perl, not perl-base).
    const probe = await launcher.run({ file: 'true', args: [] }).catch(() => undefined);
    if (!probe) throw new SetupError(`the launcher (perl ${SCRIPT}) did not start; perl said why above. It needs POSIX and Time::HiRes: apt-get install -y perl`);
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
    this.child.stdin.write(Buffer.concat([head, body]));
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
      if (this.exited) return resolve();
      this.child.once('exit', () => resolve());
      this.child.stdin.end();
    });
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
