import { execFile } from 'node:child_process';

export interface CommandResult {
  /** null when the command was killed by a signal or could not be started. */
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  /** The command's stderr, or why it could not be started. */
  stderr: string;
}

export interface CommandOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  input?: string;
  /** Added to this process's environment (a private Slurm cluster's SLURM_CONF). */
  env?: Readonly<Record<string, string>>;
}

/**
 * The environment of every program xferbench starts. ssh runs its ProxyCommand (the connector,
 * on every connection) with $SHELL and a socket on its stdin, and bash then reads ~/.bashrc as if
 * started by sshd: a user's shell set-up (a pyenv rehash took 60 s under load) would be timed with
 * each connection. /bin/sh reads no start-up file there, whether it is dash or bash.
 */
export function childEnv(extra: Readonly<Record<string, string>> = {}): NodeJS.ProcessEnv {
  return { ...process.env, SHELL: '/bin/sh', ...extra };
}

/**
 * One short command (version probe, ssh-keygen, sshd -t, ssh -O check) with its output; never
 * rejects. Plain child_process: execa's import alone cost ~100 ms of every run's start-up.
 */
export function runCommand(file: string, args: readonly string[], options: CommandOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = execFile(
      file,
      args,
      { encoding: 'utf8', maxBuffer: 16 * 2 ** 20, env: childEnv(options.env), ...(options.timeoutMs ? { timeout: options.timeoutMs } : {}), ...(options.signal ? { signal: options.signal } : {}) },
      (error, stdout, stderr) => {
        const e = error as (Error & { code?: number | string; signal?: NodeJS.Signals | null; killed?: boolean }) | null;
        const started = typeof e?.code !== 'string';
        resolve({
          exitCode: !e ? 0 : typeof e.code === 'number' ? e.code : null,
          signal: e?.signal ?? null,
          timedOut: e?.killed === true && options.timeoutMs !== undefined && !options.signal?.aborted,
          stdout,
          stderr: started ? stderr : `${stderr}${e!.message}\n`,
        });
      },
    );
    child.stdin?.on('error', () => undefined); // a command that exits without reading its input
    child.stdin?.end(options.input);
  });
}
