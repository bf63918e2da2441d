import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import type { Duplex } from 'node:stream';
import type { Client, SFTPWrapper } from 'ssh2';
import type { ExternalHostSpec } from '../../spec/external-host.js';
import { expandHome, hostKeysFrom, readUserFile } from '../../ssh/known-hosts.js';
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
}

/** A scenario's `external:` block as a target: the key's path expanded, the host's keys read from its known_hosts. */
export async function externalTarget(name: string, x: ExternalHostSpec): Promise<ExternalTarget> {
  try {
    return {
      address: x.address, port: x.port, user: x.user,
      privateKeyPath: expandHome(x.identity),
      hostKeys: await hostKeysFrom(x.known_hosts, x.address, x.port),
      ...(x.dir !== undefined ? { dir: x.dir } : {}),
    };
  } catch (e) {
    throw new HostStartError(`host "${name}": ${(e as Error).message}`);
  }
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
 * A server xferbench reaches but did not start (a site's, docs/site.md).
 * Its sshd_config and log are not ours to read, so it reports no sshd counters; its files are read
 * and written over SFTP, below a run folder made at start and removed at stop.
 */
export class ExternalHost implements StartedHost {
  readonly endpoint: HostEndpoint;
  readonly user: string;
  readonly hostKeys: readonly string[];
  readonly identityFile: string;
  readonly external = true;
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

  /** Logs in (through `via`, the jump hosts in order, each with its own key) and makes the run folder. */
  static async connect(name: string, target: ExternalTarget, via: readonly Ssh2Target[] = []): Promise<ExternalHost> {
    for (const [what, value] of [['key path', target.privateKeyPath], ['folder', target.dir ?? '.']] as const) {
      if (!CONFIG_WORD.test(value)) throw new HostStartError(`host "${name}": the ${what} ${JSON.stringify(value)} has characters an ssh_config or rsync path cannot carry safely`);
    }
    if (target.dir === undefined) return new ExternalHost(name, target, '', [], [], JUMP_ONLY);
    const clients: Client[] = [];
    // Each hop logged into in turn; a refused host key names the hop that offered it.
    const login = async (t: Ssh2Target, sock?: Duplex) => {
      const { client, ready } = await ssh2Connect(t, await readUserFile(t.privateKeyPath, 'key'), 15_000, sock);
      clients.push(client);
      await ready.catch((e: Error) => {
        throw /Host denied/.test(e.message) ? new Error(`the server at ${t.address}:${t.port} offered a host key its known_hosts entry does not pin (changed, or another server answers there); refused, as ssh refuses it`) : e;
      });
      return client;
    };
    try {
      let sock: Duplex | undefined;
      for (const [i, hop] of via.entries()) {
        const jump = await login(hop, sock);
        const next = via[i + 1] ?? target;
        sock = await ssh2Tunnel(jump, next.address, next.port);
      }
      const client = await login(target, sock);
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
      throw new HostStartError(`host "${name}" (${target.user}@${target.address}:${target.port}${via.map((v) => ` through ${v.address}:${v.port}`).join('')}): ${(e as Error).message}`);
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

/**
 * Servers that already run (a site's): each host of a scenario with an `external:` block is one,
 * logged into with the user's key and its pinned host keys. Nothing is started or configured.
 */
export class ExternalBackend implements HostBackend {
  readonly kind = 'external' as const;

  /** An external server's release is known only once connected; no check before the run depends on it. */
  async sshdVersion(): Promise<OpenSshVersion> {
    throw new HostStartError('internal: an external server\'s sshd release is not known before it is reached');
  }

  async open(_ctx: HostStartContext): Promise<HostGroup> {
    return {
      start: async (name, _index, spec, options) => {
        if (!spec.external) throw new HostStartError(`host "${name}" has no external: block; name its server`);
        const via = await Promise.all((options?.through ?? []).map((hop) => {
          if (!hop.spec.external) throw new HostStartError(`host "${name}" is reached through "${hop.name}", which is not an external host`);
          return externalTarget(hop.name, hop.spec.external);
        }));
        return ExternalHost.connect(name, await externalTarget(name, spec.external), via);
      },
      [Symbol.asyncDispose]: async () => undefined,
    };
  }

  async describe(): Promise<Record<string, string>> {
    return { backend: 'external' };
  }
}
