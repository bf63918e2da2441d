import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runCommand, type CommandResult } from '../hosts/run-command.js';
import type { CommandWrapper } from '../hosts/host.js';
import type { MuxMode } from '../scenario/scenario-schema.js';

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

/**
 * The ControlMaster side of one cell repeat. `warm` opens a master first and waits until
 * `ssh -O check` answers; `cold` starts from an empty ControlPath directory. close() sends
 * `-O exit` to every master socket left, so no master outlives the repeat.
 */
export class MuxSession implements AsyncDisposable {
  private master?: Promise<CommandResult>;
  private readonly stopMaster = new AbortController();
  private closed?: Promise<void>;

  constructor(private readonly input: MuxSessionInput) {}

  async open(signal?: AbortSignal): Promise<MuxStatus> {
    const { mode, controlDir } = this.input;
    if (mode === 'off') return { mode };
    await rm(controlDir, { recursive: true, force: true });
    await mkdir(controlDir, { recursive: true, mode: 0o700 });
    if (mode === 'cold') return { mode };

    // The lane's config says ControlMaster no (transfers only use the master); the command line wins.
    const master = this.command([...this.input.options, '-o', 'ControlMaster=yes', '-o', 'ControlPersist=no', '-N', this.input.host]);
    this.master = runCommand(master.file, master.args, { signal: signal ? AbortSignal.any([signal, this.stopMaster.signal]) : this.stopMaster.signal });
    let exited = false;
    void this.master.then(() => (exited = true));
    const deadline = Date.now() + MASTER_READY_MS;
    while (Date.now() < deadline && !exited && !signal?.aborted) {
      if ((await this.check()) === 0) return { mode, master_ok: true };
      await sleep(25);
    }
    const result = exited ? await this.master : undefined;
    return { mode, master_ok: false, master_error: result ? result.stderr.trim().slice(-500) || `exit ${result.exitCode}` : 'master not ready in time' };
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
    let sockets: string[] = [];
    try {
      sockets = await readdir(controlDir);
    } catch {
      // nothing was created
    }
    // The socket name is ssh's %C hash; address each one by explicit path.
    await Promise.all(
      sockets.map((s) => {
        const c = this.command(['-F', '/dev/null', '-o', `ControlPath=${join(controlDir, s)}`, '-O', 'exit', 'xferbench-mux']);
        return runCommand(c.file, c.args, { timeoutMs: 5000 });
      }),
    );
    if (this.master) {
      // `-O exit` above has normally ended it; SIGTERM for one that never answered.
      this.stopMaster.abort();
      await this.master;
    }
    await rm(controlDir, { recursive: true, force: true });
  }
}
