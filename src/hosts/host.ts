import { join } from 'node:path';
import type { TrafficRules } from './nft-table.js';
import type { HostSpec } from '../spec/host.js';
import type { OpenSshVersion } from '../ssh/openssh-version.js';
import type { HostFiles } from './host-files.js';
import type { KeyPair } from '../ssh/ssh-keys.js';
import type { SshdLog } from '../ssh/sshd-log.js';
import type { Link } from '../spec/link.js';

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
  /** sshd's own log; absent for a server xferbench did not start (an external host). */
  readonly log?: SshdLog;
  /** Brings `log` up to date with everything sshd has written so far. */
  syncLog(): Promise<void>;
  /** The sshd_config xferbench wrote; absent for an external host. */
  readonly sshdConfig?: string;
  /** A server xferbench did not start (a site's): the load aimed at it is capped unless the user administers it. */
  readonly external?: boolean;
  /** The key this host accepts when it is not the run's key (an external host). */
  readonly identityFile?: string;
  /** What fault injection may do to this host (faults/); absent for a server xferbench did not start. */
  readonly control?: HostControl;
  /**
   * Where the topology's other hosts reach this one (a container's address on the run's network).
   * Absent for local hosts, which everyone reaches at `endpoint`.
   */
  readonly innerEndpoint?: HostEndpoint;
  /**
   * This machine's address on the network of `innerEndpoint` (a container network's gateway):
   * where a link's relay listens for the topology's other hosts. Absent with no inner endpoint.
   */
  readonly innerGateway?: string;
  /** The link clients cross to reach it (a relay in front of its sshd); absent: nothing in the path. */
  readonly link?: StartedLink;
  /** Runs a command inside this host instead of on the machine (container hosts that act as clients). */
  readonly exec?: CommandWrapper;
  stop(): Promise<void>;
}

/** A host's link as a started host carries it (link/link-relay.ts): what it is, and the client behind a relayed connection. */
export interface StartedLink {
  readonly link: Link;
  /** The client's port of the connection the relay opened from `upstreamPort` (what sshd logs); undefined when not known for certain. */
  clientPort(upstreamPort: number): number | undefined;
  /** Resolves once every connection the relay carried so far has its ports known here. */
  sync(): Promise<void>;
}

/** A host's own means for fault injection, so that a fault never reaches into a backend. */
export interface HostControl {
  /** sshd and every session ended at once, as a crash would (SIGKILL). */
  killSshd(): Promise<void>;
  /** sshd started again on the same address and port, with the same keys and configuration. */
  startSshd(): Promise<void>;
  /** sshd and its sessions frozen (SIGSTOP), as a hung host; resume() thaws them. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Replaces the authorized_keys sshd reads, atomically; resolves with what it held before. */
  setAuthorizedKeys(text: string): Promise<string>;
  /**
   * Leaves only `bytes` of space in `dir` (a size-limited file system over it, as root); the
   * returned undo keeps what arrived there and removes the limit.
   */
  limitSpace(dir: string, bytes: number): Promise<() => Promise<void>>;
  /** Filters the traffic to and from this host's sshd (nftables, as root); the returned undo removes it. */
  filterTraffic(rules: TrafficRules): Promise<() => Promise<void>>;
}

/** Where a push lands on a host: the destination folder a cell repeat prepares and verifies. */
export const destinationDir = (host: Pick<StartedHost, 'dataRoot'>): string => join(host.dataRoot, 'dest');

/** Turns a command for this machine into one that runs it inside a host, bounded by `timeoutMs`. */
export type CommandWrapper = (command: { file: string; args: string[]; input?: string }, timeoutMs?: number) => { file: string; args: string[]; input?: string };

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

export interface HostStartOptions {
  /** Folders of this machine the host must see at the same path (client hosts: datasets, ControlPath sockets). */
  mounts?: readonly string[];
  /** Files of this machine the host must see read-only at the same path (a client container's connector). */
  readOnlyMounts?: readonly string[];
  /** The jump hosts the transfers reach it through, in order: an external host's own session goes the same way. */
  through?: readonly { name: string; spec: HostSpec }[];
}

/** Hosts of one topology, and what they share (a container network); disposing it releases that. */
export interface HostGroup extends AsyncDisposable {
  start(name: string, index: number, spec: HostSpec, options?: HostStartOptions): Promise<StartedHost>;
}

/** Starts hosts of one kind (local sshd processes, containers). */
export interface HostBackend {
  readonly kind: 'local' | 'container' | 'external';
  /** The sshd version hosts will run, for keyword checks before anything starts. */
  sshdVersion(): Promise<OpenSshVersion>;
  /** Opens a topology; its hosts are started through the group and stopped before it is disposed. */
  open(ctx: HostStartContext): Promise<HostGroup>;
  /** What a report should record about this backend (engine, image), beyond the sshd version. */
  describe?(): Promise<Record<string, string>>;
}
