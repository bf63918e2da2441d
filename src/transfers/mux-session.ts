import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand, type CommandResult } from '../process/run-command.js';
import type { CommandWrapper } from '../hosts/host.js';
import type { MuxMode } from '../spec/fields.js';

export interface MuxSessionInput {
  mode: MuxMode;
  ssh: string;
  /** Options shared with the transfers: `-F` and the lane's ssh_config (ssh-invocation.ts). */
  options: readonly string[];
  host: string;
  controlDir: string;
  /** Runs ssh inside a client container (where the ControlPath directory is mounted). */
  exec?: CommandWrapper;
}

export interface MuxStatus {
  mode: MuxMode;
  master_ok?: boolean;
  master_error?: string;
}

const MASTER_READY_MS = 15_000;


/** A client's ssh ControlMaster for one destination (a MuxSession), as faults act on it. */
export interface MasterControl {
  /** SIGKILLs the master process(es); resolves with how many there were. */
  kill(): Promise<number>;
  /** A fresh master where the mode keeps one (warm); stale sockets removed. */
  restart(): Promise<void>;
}

/**
 * The ControlMaster side of one cell repeat. `warm` opens a master first and waits until
 * `ssh -O check` answers; `cold` starts from an empty ControlPath directory. close() sends
 * `-O exit` to every master socket left, so no master outlives the repeat.
 */
export class MuxSession implements AsyncDisposable, MasterControl {
  /** The warm master this session started last (a fault may kill it and start another). */
  private master?: { result: Promise<CommandResult>; stop: AbortController };
  private closed?: Promise<void>;

  constructor(private readonly input: MuxSessionInput) {}

  async open(signal?: AbortSignal): Promise<MuxStatus> {
    const { mode, controlDir } = this.input;
    if (mode === 'off') return { mode };
    await rm(controlDir, { recursive: true, force: true });
    await mkdir(controlDir, { recursive: true, mode: 0o700 });
    if (mode === 'cold') return { mode };
    return this.startMaster(signal);
  }

  private async startMaster(signal?: AbortSignal): Promise<MuxStatus> {
    const { mode } = this.input;
    // The lane's config says ControlMaster no (transfers only use the master); the command line wins.
    const command = this.command([...this.input.options, '-o', 'ControlMaster=yes', '-o', 'ControlPersist=no', '-N', this.input.host]);
    const stop = new AbortController();
    const result = runCommand(command.file, command.args, { signal: signal ? AbortSignal.any([signal, stop.signal]) : stop.signal });
    this.master = { result, stop };
    let exited = false;
    void result.then(() => (exited = true));
    const deadline = Date.now() + MASTER_READY_MS;
    while (Date.now() < deadline && !exited && !signal?.aborted) {
      if ((await this.check()) === 0) return { mode, master_ok: true };
      await sleep(25);
    }
    const ended = exited ? await result : undefined;
    return { mode, master_ok: false, master_error: ended ? ended.stderr.trim().slice(-500) || `exit ${ended.exitCode}` : 'master not ready in time' };
  }

  /** SIGKILLs every master behind this lane's sockets (ssh's `-O check` names its pid), as a crash would. */
  async kill(): Promise<number> {
    let killed = 0;
    for (const socket of await this.sockets()) {
      const check = this.command(['-F', '/dev/null', '-o', `ControlPath=${join(this.input.controlDir, socket)}`, '-O', 'check', 'xferbench-mux']);
      const pid = /Master running \(pid=(\d+)\)/.exec((await runCommand(check.file, check.args, { timeoutMs: 5000 })).stderr)?.[1];
      if (!pid) continue;
      // kill(1) where the master runs: this machine, or the client container.
      const kill = { file: 'kill', args: ['-KILL', pid] };
      const c = this.input.exec ? this.input.exec(kill) : kill;
      await runCommand(c.file, c.args, { timeoutMs: 5000 });
      killed++;
    }
    return killed;
  }

  /** A fresh warm master after a kill: its stale socket removed first. Cold masters come back by themselves. */
  async restart(): Promise<void> {
    if (this.input.mode !== 'warm' || this.closed) return;
    this.master?.stop.abort();
    await this.master?.result;
    for (const socket of await this.sockets()) await rm(join(this.input.controlDir, socket), { force: true });
    await this.startMaster();
  }

  private async sockets(): Promise<string[]> {
    return readdir(this.input.controlDir).catch(() => [] as string[]);
  }

  private async check(): Promise<number | undefined> {
    const c = this.command([...this.input.options, '-O', 'check', this.input.host]);
    return (await runCommand(c.file, c.args, { timeoutMs: 5000 })).exitCode ?? undefined;
  }

  private command(args: string[]): { file: string; args: string[] } {
    const c = { file: this.input.ssh, args };
    return this.input.exec ? this.input.exec(c) : c;
  }

  close(): Promise<void> {
    this.closed ??= this.exitAll();
    return this.closed;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  private async exitAll(): Promise<void> {
    const { mode, controlDir } = this.input;
    if (mode === 'off') return;
    // The socket name is ssh's %C hash; address each one by explicit path.
    await Promise.all(
      (await this.sockets()).map((s) => {
        const c = this.command(['-F', '/dev/null', '-o', `ControlPath=${join(controlDir, s)}`, '-O', 'exit', 'xferbench-mux']);
        return runCommand(c.file, c.args, { timeoutMs: 5000 });
      }),
    );
    if (this.master) {
      // `-O exit` above has normally ended it; SIGTERM for one that never answered.
      this.master.stop.abort();
      await this.master.result;
    }
    await rm(controlDir, { recursive: true, force: true });
  }
}
