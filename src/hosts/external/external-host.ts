import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { posix } from 'node:path';
import type { Client, SFTPWrapper } from 'ssh2';
import { HostStartError } from '../../util/errors.js';
import { CONFIG_WORD } from '../../ssh/ssh-client-config.js';
import { ssh2Connect, ssh2Tunnel, type Ssh2Target } from '../../ssh/ssh2-connect.js';
import type { HostBackend, HostEndpoint, HostGroup, HostStartContext, StartedHost } from '../host.js';
import type { HostFiles } from '../host-files.js';
import type { OpenSshVersion } from '../../ssh/openssh-version.js';
import { SftpHostFiles } from './sftp-host-files.js';

/** A server someone else runs: where it is, the key it accepts, its pinned host keys, a folder for xferbench. */
export interface ExternalTarget extends Ssh2Target {
  /**
   * Folder below the login's home (or absolute) in which each run makes, and removes, its own.
   * Absent for a host used only as a jump host: xferbench then opens no session on it.
   */
  dir?: string;
  /** The jump host through which this one is reached (the same key), for xferbench's own SFTP session. */
  via?: Ssh2Target;
}

/** The files of a host that is only a jump host: there are none to read or write. */
const JUMP_ONLY: HostFiles = {
  writeDataset: () => Promise.reject(new HostStartError('an external host without a folder is only a jump host: no dataset goes there')),
  prepare: () => Promise.reject(new HostStartError('an external host without a folder is only a jump host: no transfer goes there')),
  scan: () => Promise.reject(new HostStartError('an external host without a folder is only a jump host: nothing to verify there')),
};

/** What a run may do on a server it did not start. */
const REMOTE_PATH = /^[\w./+-]+$/;
const STOP_TIMEOUT_MS = 30_000;

/**
 * A server xferbench reaches but did not start (`advise --verify` against a probed head node).
 * Its sshd_config and log are not ours to read, so it reports no sshd counters; its files are read
 * and written over SFTP, below a run folder made at start and removed at stop.
 */
export class ExternalHost implements StartedHost {
  readonly endpoint: HostEndpoint;
  readonly user: string;
  readonly hostKeys: readonly string[];
  readonly identityFile: string;
  private stopping?: Promise<void>;

  private constructor(
    readonly name: string,
    target: ExternalTarget,
    readonly dataRoot: string,
    /** The SFTP session's connection, and the jump host's it goes through; none for a jump-only host. */
    private readonly clients: Client[],
    /** Folders above dataRoot this run made: removed at stop if nothing else is in them. */
    private readonly madeParents: string[],
    readonly files: HostFiles,
  ) {
    this.endpoint = { address: target.address, port: target.port };
    this.user = target.user;
    this.hostKeys = target.hostKeys;
    this.identityFile = target.privateKeyPath;
  }

  static async connect(name: string, target: ExternalTarget): Promise<ExternalHost> {
    for (const [what, value] of [['key path', target.privateKeyPath], ['folder', target.dir ?? '.']] as const) {
      if (!CONFIG_WORD.test(value)) throw new HostStartError(`host "${name}": the ${what} ${JSON.stringify(value)} has characters an ssh_config or rsync path cannot carry safely`);
    }
    if (target.dir === undefined) return new ExternalHost(name, target, '', [], [], JUMP_ONLY);
    const key = await readFile(target.privateKeyPath).catch((e: NodeJS.ErrnoException) => {
      throw new HostStartError(`host "${name}": cannot read the key ${target.privateKeyPath}: ${e.code ?? e.message}`);
    });
    const clients: Client[] = [];
    try {
      let sock;
      if (target.via) {
        const jump = await ssh2Connect(target.via, key, 15_000);
        clients.push(jump.client);
        await jump.ready;
        sock = await ssh2Tunnel(jump.client, target.address, target.port);
      }
      const { client, ready } = await ssh2Connect(target, key, 15_000, sock);
      clients.push(client);
      await ready;
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
      const home = await new Promise<string>((resolve, reject) => sftp.realpath('.', (err, p) => (err ? reject(err) : resolve(p))));
      const dataRoot = posix.join(posix.isAbsolute(target.dir) ? target.dir : posix.join(home, target.dir), `run-${randomBytes(6).toString('hex')}`);
      // rsync and scp hand the remote path to the login's shell: only plain characters.
      if (!REMOTE_PATH.test(dataRoot)) throw new Error(`the run folder ${JSON.stringify(dataRoot)} has characters a remote shell would read`);
      const files = new SftpHostFiles(sftp);
      const made = await files.mkdirs(dataRoot);
      return new ExternalHost(name, target, dataRoot, clients, made.filter((d) => d !== dataRoot), files);
    } catch (e) {
      for (const c of clients.reverse()) c.end();
      throw new HostStartError(`host "${name}" (${target.user}@${target.address}:${target.port}${target.via ? ` through ${target.via.address}:${target.via.port}` : ''}): ${(e as Error).message}`);
    }
  }

  /** No log of this sshd reaches xferbench. */
  async syncLog(): Promise<void> {}

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      if (!(this.files instanceof SftpHostFiles)) return;
      const timer = setTimeout(() => this.clients.forEach((c) => c.destroy()), STOP_TIMEOUT_MS);
      try {
        await this.files.remove(this.dataRoot);
        for (const dir of this.madeParents.reverse()) if (!(await this.files.rmdirIfEmpty(dir))) break;
      } catch {
        // The connection is gone (the server restarted): the folder stays, and its name says whose it is.
      } finally {
        clearTimeout(timer);
        for (const c of [...this.clients].reverse()) c.end();
      }
    })();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}

/** Hosts that already run: each scenario host name maps to a target given on the command line. */
export class ExternalBackend implements HostBackend {
  readonly kind = 'external' as const;

  constructor(
    private readonly targets: Readonly<Record<string, ExternalTarget>>,
    private readonly version: OpenSshVersion,
  ) {}

  async sshdVersion(): Promise<OpenSshVersion> {
    return this.version;
  }

  async open(_ctx: HostStartContext): Promise<HostGroup> {
    return {
      start: async (name) => {
        const target = this.targets[name];
        if (!target) throw new HostStartError(`host "${name}" has no external target; name one for each host of the scenario`);
        return ExternalHost.connect(name, target);
      },
      [Symbol.asyncDispose]: async () => undefined,
    };
  }

  async describe(): Promise<Record<string, string>> {
    return { backend: 'external', sshd: this.version.text };
  }
}
