import type { HostSpec } from '../scenario/scenario-schema.js';
import type { OpenSshVersion } from './openssh-version.js';
import type { HostFiles } from './host-files.js';
import type { KeyPair } from './ssh-keys.js';
import type { SshdLog } from './sshd-log.js';

export interface HostEndpoint {
  /** Where the client connects (a loopback address, or 127.0.0.1 for published container ports). */
  address: string;
  port: number;
}

/** A running sshd host. Stopping is idempotent; `await using` stops it on every exit path. */
export interface StartedHost extends AsyncDisposable {
  readonly name: string;
  readonly endpoint: HostEndpoint;
  /** The account transfers log in as. */
  readonly user: string;
  /** Public host key lines, for the run's known_hosts. */
  readonly hostKeys: readonly string[];
  /** Absolute directory on the host below which xferbench puts transfer data. */
  readonly dataRoot: string;
  readonly files: HostFiles;
  readonly log: SshdLog;
  readonly sshdConfig: string;
  stop(): Promise<void>;
}

/** What every backend gets to start a host. */
export interface HostStartContext {
  /** Per-run state directory (0700). */
  stateDir: string;
  /** The run's client key; its public half is authorized on every host. */
  clientKey: KeyPair;
  /** The run's monotonic clock in milliseconds, shared with transfer records. */
  clock: () => number;
  signal?: AbortSignal;
}

/** Starts hosts of one kind (local sshd processes, containers). */
export interface HostBackend {
  readonly kind: 'local' | 'container';
  /** The sshd version hosts will run, for keyword checks before anything starts. */
  sshdVersion(): Promise<OpenSshVersion>;
  start(name: string, index: number, spec: HostSpec, ctx: HostStartContext): Promise<StartedHost>;
}
