import { cp, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { HostStartError } from '../../util/errors.js';
import type { HostSpec } from '../../spec/host.js';
import type { HostControl, HostStartContext, StartedHost, HostEndpoint } from '../host.js';
import type { HostFiles } from '../host-files.js';
import { LocalHostFiles } from './local-host-files.js';
import { loginAccount } from '../login-account.js';
import { makeFolders, subfolders, swapAuthorizedKeys } from '../host-control.js';
import { unmount } from '../mounts.js';
import { addTrafficRules } from '../nft-table.js';
import { freePort, loopbackAddressFor } from '../loopback-address.js';
import type { OpenSshVersion } from '../../ssh/openssh-version.js';
import { descendantPids, killTree, processesUsing, signal } from '../../process/process-tree.js';
import { renderSshdConfig } from '../../ssh/sshd-config.js';
import { SshdLog } from '../../ssh/sshd-log.js';
import { generateKeyPair } from '../../ssh/ssh-keys.js';
import { runCommand } from '../../process/run-command.js';

/** The sshd process and its exit (code or signal). */
interface SshdProcess {
  child: ChildProcess;
  exited: Promise<string>;
}

export interface LocalSshdOptions {
  sshd: string;
  sshKeygen: string;
  version: OpenSshVersion;
}

const READY_TIMEOUT_MS = 10_000;
const STOP_WAIT_MS = 2_000;

/** A real sshd process on a loopback address, in the foreground (-D -e) so its log is ours. */
export class LocalSshdHost implements StartedHost {
  readonly files: HostFiles = new LocalHostFiles();
  readonly control: HostControl;
  private stopping?: Promise<void>;

  private constructor(
    readonly name: string,
    readonly endpoint: HostEndpoint,
    readonly user: string,
    readonly hostKeys: readonly string[],
    readonly dataRoot: string,
    readonly log: SshdLog,
    readonly sshdConfig: string,
    /** Replaced when a fault restarts sshd. */
    private process: SshdProcess,
    /** The host's folder: keys, config, data. */
    private readonly dir: string,
    sshd: string,
  ) {
    const authorizedKeys = join(dir, 'authorized_keys');
    const tree = async () => [this.process.child.pid!, ...(await descendantPids(this.process.child.pid!))];
    this.control = {
      killSshd: async () => {
        await killTree(this.process.child.pid!, STOP_WAIT_MS);
        await this.process.exited;
      },
      startSshd: async () => {
        if (this.stopping) return;
        const launched = await launch(sshd, join(dir, 'sshd_config'), this.log, endpoint);
        if (typeof launched === 'string') throw new HostStartError(`sshd for host "${name}" did not start again: ${launched}`);
        this.process = launched;
      },
      pause: async () => {
        for (const pid of await tree()) signal(pid, 'SIGSTOP');
      },
      resume: async () => {
        for (const pid of await tree()) signal(pid, 'SIGCONT');
      },
      setAuthorizedKeys: (text) => swapAuthorizedKeys(authorizedKeys, text),
      limitSpace: async (target, bytes) => {
        // The folders a transfer writes into must still be there on the new file system.
        const subdirs = await subfolders(target);
        const mounted = await runCommand('mount', ['-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'xferbench-disk-full', target], { timeoutMs: 10_000 });
        if (mounted.exitCode !== 0) throw new HostStartError(`cannot mount a ${bytes}-byte file system on ${target}: ${mounted.stderr.trim()}`);
        await makeFolders(target, subdirs);
        return async () => {
          const keep = await mkdtemp(join(dir, 'disk-full-'));
          await cp(target, keep, { recursive: true });
          await unmount(target);
          await cp(keep, target, { recursive: true, force: true });
          await rm(keep, { recursive: true, force: true });
        };
      },
      // The rules match this host's address and port: no other traffic of the machine is touched.
      filterTraffic: (rules) => addTrafficRules({ hostDir: dir }, endpoint.address, endpoint.port, rules),
    };
  }

  static async start(name: string, index: number, spec: HostSpec, ctx: HostStartContext, opts: LocalSshdOptions): Promise<LocalSshdHost> {
    const dir = join(ctx.stateDir, 'hosts', name);
    const dataRoot = join(dir, 'data');
    await mkdir(dataRoot, { recursive: true, mode: 0o700 });
    const hostKey = await generateKeyPair(opts.sshKeygen, join(dir, 'ssh_host_ed25519_key'), `xferbench-host-${name}`);
    const authorizedKeys = join(dir, 'authorized_keys');
    // restrict: no pty, agent or X11; port-forwarding stays so this host can serve as a jump host.
    await writeFile(authorizedKeys, `restrict,port-forwarding ${ctx.clientKey.publicKey}\n`, { mode: 0o600 });
    const address = await loopbackAddressFor(index);
    const user = loginAccount().name;
    const configPath = join(dir, 'sshd_config');

    let lastError = '';
    // A free port can be taken between our probe and sshd's bind; try a few.
    for (let attempt = 0; attempt < 5; attempt++) {
      const endpoint = { address, port: await freePort(address) };
      const config = renderSshdConfig({
        hostName: name,
        listen: endpoint,
        hostKeyPath: hostKey.privatePath,
        authorizedKeysPath: authorizedKeys,
        user,
        sessionHome: dir,
        version: opts.version,
        options: spec.sshd,
      });
      await writeFile(configPath, config, { mode: 0o600 });
      const test = await runCommand(opts.sshd, ['-t', '-f', configPath]);
      if (test.exitCode !== 0) {
        throw new HostStartError(`sshd rejected the configuration of host "${name}" (${configPath}):\n${test.stderr.trim()}`);
      }
      const log = new SshdLog(ctx.clock);
      const launched = await launch(opts.sshd, configPath, log, endpoint);
      if (typeof launched !== 'string') {
        return new LocalSshdHost(name, endpoint, user, [hostKey.publicKey.split(' ').slice(0, 2).join(' ')], dataRoot, log, config, launched, dir, opts.sshd);
      }
      lastError = launched;
      if (!/already in use|Cannot bind/i.test(launched)) break;
    }
    throw new HostStartError(`sshd for host "${name}" did not start: ${lastError}`);
  }

  /**
   * sshd's stderr is a pipe read by this event loop. A line written before now is readable now,
   * and the loop reads every readable stream in its next poll phase, which a timer waits out.
   */
  syncLog(): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, 1));
  }

  async stop(): Promise<void> {
    this.stopping ??= this.terminate();
    return this.stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  private async terminate(): Promise<void> {
    const pid = this.process.child.pid;
    if (pid === undefined) return;
    // A paused host (fault pause_sshd) is thawed first, so that a stopped process does not outlive it.
    for (const p of [pid, ...(await descendantPids(pid))]) signal(p, 'SIGCONT');
    // Connection and session processes left sshd's process group (setsid); the server ends of
    // transfers (rsync --server) sit below them. A host's processes hold nothing worth a
    // graceful exit once the run is done with it.
    await killTree(pid, STOP_WAIT_MS);
    // A session whose connection already closed (its client was killed by the same Ctrl-C)
    // leaves its rsync --server to init while it drains: no walk from sshd finds it, but its
    // command line names this host's folder.
    for (const p of await processesUsing([`${this.dir}/`])) signal(p, 'SIGKILL');
    await this.process.exited;
  }
}

/** Starts sshd in the foreground on `configPath`; resolves with the process once it listens, or the reason it did not. */
async function launch(sshd: string, configPath: string, log: SshdLog, endpoint: HostEndpoint): Promise<SshdProcess | string> {
  const child = spawn(sshd, ['-D', '-e', '-f', configPath], { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  const proc = { child, exited: once(child, 'exit').then(([code, sig]) => String(code ?? sig), (e: Error) => e.message) };
  const ready = await waitForListening(proc, log, endpoint);
  return ready === true ? proc : ready;
}

/** Resolves true once sshd logs that it listens, or with the reason it did not. */
function waitForListening(proc: SshdProcess, log: SshdLog, endpoint: HostEndpoint): Promise<true | string> {
  return new Promise((resolve) => {
    const seen: string[] = [];
    const timer = setTimeout(() => {
      signal(-(proc.child.pid ?? 0), 'SIGKILL');
      resolve(`no "Server listening" line within ${READY_TIMEOUT_MS} ms; log: ${seen.join(' | ')}`);
    }, READY_TIMEOUT_MS);
    const lines = createInterface({ input: proc.child.stderr! });
    lines.on('line', (line) => {
      log.push(line);
      if (seen.length < 20) seen.push(line);
      if (line.startsWith('Server listening on') && line.includes(`port ${endpoint.port}`)) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    void proc.exited.then((how) => {
      clearTimeout(timer);
      resolve(`sshd exited (${how}): ${seen.join(' | ')}`);
    });
  });
}
