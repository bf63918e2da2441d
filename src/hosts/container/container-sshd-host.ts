import { cp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { networkInterfaces } from 'node:os';
import { ownAddress } from './own-address.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import { GenericContainer, type StartedTestContainer } from 'testcontainers';
import { HostStartError } from '../../util/errors.js';
import type { HostSpec } from '../../spec/host.js';
import { containerCommandWrapper } from './container-exec.js';
import { containerLabels } from './container-labels.js';
import type { ContainerEngine } from './container-engine.js';
import type { CommandWrapper, HostControl, HostEndpoint, HostStartContext, StartedHost } from '../host.js';
import { makeFolders, subfolders, swapAuthorizedKeys } from '../host-control.js';
import { addTrafficRules } from '../nft-table.js';
import type { HostFiles } from '../host-files.js';
import { LocalHostFiles } from '../local/local-host-files.js';
import { loginAccount } from '../login-account.js';
import type { OpenSshVersion } from '../../ssh/openssh-version.js';
import { SshBannerWaitStrategy } from './ssh-banner-wait.js';
import { renderSshdConfig } from '../../ssh/sshd-config.js';
import { SshdLog } from '../../ssh/sshd-log.js';
import { LogTail } from './log-tail.js';
import { killTree, processesInMountNamespaceOf, signal } from '../../process/process-tree.js';
import { runCommand } from '../../process/run-command.js';
import { readBanner } from '../../ssh/ssh-banner.js';

/** Published ports bind here only: a test host must not be reachable from outside the machine. */
export const PUBLISH_ADDRESS = '127.0.0.1';
const SSH_PORT = 22;
const START_TIMEOUT_MS = 60_000;
const HOST_KEY = '/etc/ssh/ssh_host_ed25519_key';
const STOP_WAIT_MS = 2_000;

/** GenericContainer whose published ports bind to one address (testcontainers binds all of them). */
class LoopbackPublishedContainer extends GenericContainer {
  publishOn(address: string, port: number): this {
    this.withExposedPorts(port);
    this.hostConfig.PortBindings = { ...this.hostConfig.PortBindings, [`${port}/tcp`]: [{ HostIp: address, HostPort: '0' }] };
    return this;
  }
}

export interface ContainerHostInput {
  engine: ContainerEngine;
  image: string;
  network: string;
  /** Unique per topology: container names are `xb-<group>-<host>`. */
  groupId: string;
  version: OpenSshVersion;
  /** Folders of this machine the container sees at the same path. */
  mounts: readonly string[];
  /** Files of this machine it sees read-only at the same path. */
  readOnlyMounts: readonly string[];
  /** nsenter(1) where this process may enter the container's namespaces (root, local engine). */
  nsenter?: string;
}

/**
 * One sshd host in its own container. The host's folder (config, authorized_keys, data) is
 * mounted at the same path inside, so data paths mean the same on both sides and the run's
 * verification reads the destination directly.
 */
export class ContainerSshdHost implements StartedHost {
  readonly files: HostFiles = new LocalHostFiles();
  /** Absent where there is no way in (neither nsenter nor the engine's CLI): the topology says so at start. */
  readonly exec?: CommandWrapper;
  /** Faults act through init's pid on this machine: root with a local engine (else absent; faults say so). */
  readonly control?: HostControl;
  /** This machine's address on the run's network, with the engine on this machine. */
  readonly innerGateway?: string;
  private stopping?: Promise<void>;

  private constructor(
    readonly name: string,
    readonly endpoint: HostEndpoint,
    readonly innerEndpoint: HostEndpoint,
    gateway: string | undefined,
    readonly user: string,
    readonly hostKeys: readonly string[],
    readonly dataRoot: string,
    readonly log: SshdLog,
    readonly sshdConfig: string,
    private readonly container: StartedTestContainer,
    /** The container's init on this machine; 0 when the engine runs elsewhere. */
    private readonly initPid: number,
    private readonly tail: LogTail,
    exec: CommandWrapper | undefined,
    private readonly engine: ContainerEngine,
    nsenter: string | undefined,
  ) {
    if (exec) this.exec = exec;
    if (gateway) this.innerGateway = gateway;
    if (initPid > 0 && nsenter && process.getuid?.() === 0) this.control = this.controlThrough(engine, nsenter);
  }

  /** Faults on this container: sshd under the entrypoint's loop, the engine's pause, the bind-mounted folder. */
  private controlThrough(engine: ContainerEngine, nsenter: string): HostControl {
    const dir = dirname(this.dataRoot);
    const down = join(dir, 'sshd-down');
    const inside = (...args: string[]) => runCommand(nsenter, ['-t', String(this.initPid), '-m', '--', ...args], { timeoutMs: 10_000 });
    return {
      killSshd: async () => {
        await writeFile(down, '');
        await killTree(this.initPid, STOP_WAIT_MS, { keepRoot: true });
      },
      startSshd: async () => {
        await rm(down, { force: true });
        const deadline = Date.now() + START_TIMEOUT_MS;
        while ((await readBanner(this.endpoint.address, this.endpoint.port, 1000)) === undefined) {
          if (Date.now() > deadline) throw new HostStartError(`sshd of host "${this.name}" did not come back`);
          await sleep(50);
        }
      },
      pause: () => engine.docker.getContainer(this.container.getId()).pause(),
      resume: () => engine.docker.getContainer(this.container.getId()).unpause(),
      setAuthorizedKeys: (text) => swapAuthorizedKeys(join(dir, 'authorized_keys'), text),
      limitSpace: async (target, bytes) => {
        // Mounted in the container's own mount namespace, where sshd writes; read back through
        // /proc/PID/root when the fault ends, into the folder this machine sees under it.
        const subdirs = await subfolders(target);
        const mounted = await inside('mount', '-t', 'tmpfs', '-o', `size=${bytes},mode=0755`, 'xferbench-disk-full', target);
        if (mounted.exitCode !== 0) throw new HostStartError(`cannot mount a ${bytes}-byte file system in host "${this.name}": ${mounted.stderr.trim()}`);
        const view = `/proc/${this.initPid}/root${target}`;
        await makeFolders(view, subdirs);
        return async () => {
          await cp(view, target, { recursive: true, force: true });
          if ((await inside('umount', target)).exitCode !== 0) await inside('umount', '-l', target);
        };
      },
      // In the container's own network namespace, at its sshd: what arrives through the published
      // port (after the engine's NAT) and from the other containers alike.
      filterTraffic: (rules) => addTrafficRules({ nsenter, pid: this.initPid }, this.innerEndpoint.address, this.innerEndpoint.port, rules),
    };
  }

  static async start(name: string, spec: HostSpec, ctx: HostStartContext, input: ContainerHostInput): Promise<ContainerSshdHost> {
    const dir = join(ctx.stateDir, 'hosts', name);
    const dataRoot = join(dir, 'data');
    await mkdir(dataRoot, { recursive: true, mode: 0o700 });
    const authorizedKeys = join(dir, 'authorized_keys');
    await writeFile(authorizedKeys, `restrict,port-forwarding ${ctx.clientKey.publicKey}\n`, { mode: 0o600 });
    const account = loginAccount();
    const config = renderSshdConfig({
      hostName: name,
      // The container's own interfaces: its network address, and the published port's target.
      listen: { address: '0.0.0.0', port: SSH_PORT },
      hostKeyPath: HOST_KEY,
      authorizedKeysPath: authorizedKeys,
      user: account.name,
      sessionHome: dir,
      version: input.version,
      options: spec.sshd,
    });
    await writeFile(join(dir, 'sshd_config'), config, { mode: 0o600 });

    const log = new SshdLog(ctx.clock);
    // Created here so it belongs to the person running xferbench; sshd (root inside) appends.
    const logPath = join(dir, 'sshd.log');
    await writeFile(logPath, '', { mode: 0o600 });
    const tail = await LogTail.open(logPath, (line) => log.push(line));
    const wait = new SshBannerWaitStrategy(PUBLISH_ADDRESS, SSH_PORT);
    const seen: string[] = [];
    let container: StartedTestContainer;
    try {
      container = await new LoopbackPublishedContainer(input.image)
        .withName(`xb-${input.groupId}-${name}`)
        .withHostname(name)
        .withNetworkMode(input.network)
        .withLabels(containerLabels(input.groupId, name))
        .withEnvironment({ XFERBENCH_DIR: dir, XFERBENCH_USER: account.name, XFERBENCH_UID: String(account.uid), XFERBENCH_GID: String(account.gid) })
        .withBindMounts([...[dir, ...input.mounts].map((path) => ({ source: path, target: path })), ...input.readOnlyMounts.map((path) => ({ source: path, target: path, mode: 'ro' as const }))])
        .publishOn(PUBLISH_ADDRESS, SSH_PORT)
        // Whatever the entrypoint or sshd says before its log file is open (config errors).
        .withLogConsumer((stream: Readable) => {
          createInterface({ input: stream }).on('line', (line) => {
            if (seen.length < 20) seen.push(line);
          });
        })
        .withWaitStrategy(wait)
        .withStartupTimeout(START_TIMEOUT_MS)
        .start();
    } catch (e) {
      await tail.close();
      const said = [...seen, ...log.lines.slice(0, 20).map((l) => l.line)];
      throw new HostStartError(`container for host "${name}" did not start: ${(e as Error).message}${said.length ? `\nsshd: ${said.join(' | ')}` : ''}`);
    }
    try {
      // Copied there by the entrypoint before sshd starts (an exec session would do, but Podman's
      // API keeps each one's monitor process around for minutes).
      const key = await readFile(join(dir, 'ssh_host_ed25519_key.pub'), 'utf8').catch((e: Error) => {
        throw new HostStartError(`cannot read the host key of "${name}": ${e.message}`);
      });
      const endpoint = { address: PUBLISH_ADDRESS, port: container.getMappedPort(SSH_PORT) };
      const inner = { address: container.getIpAddress(input.network), port: SSH_PORT };
      const hostKey = key.trim().split(/\s+/).slice(0, 2).join(' ');
      // With the engine on this machine, the container's init (faults, commands inside) and this
      // machine's address on its network (where a link's relay listens for the other hosts).
      const inspected = input.engine.local ? await input.engine.docker.getContainer(container.getId()).inspect() : undefined;
      const initPid = inspected?.State.Pid ?? 0;
      const gateway = ownAddress(inspected?.NetworkSettings.Networks[input.network]?.Gateway, networkInterfaces());
      const exec = containerCommandWrapper({
        containerId: container.getId(),
        pid: initPid,
        account,
        ...(input.nsenter ? { nsenter: input.nsenter } : {}),
        ...(input.engine.cli ? { cli: input.engine.cli } : {}),
      });
      return new ContainerSshdHost(name, endpoint, inner, gateway, account.name, [hostKey], dataRoot, log, config, container, initPid, tail, exec, input.engine, input.nsenter);
    } catch (e) {
      await container.stop({ timeout: 0 }).catch(() => undefined);
      await tail.close();
      throw e;
    }
  }

  stop(): Promise<void> {
    this.stopping ??= (async () => {
      // Transfers started inside with nsenter are not the container's processes: an interrupted
      // one (a ProxyJump `ssh -W`, say) would outlive it, waiting on a connection into a network
      // that no longer exists.
      if (this.initPid > 0) for (const p of await processesInMountNamespaceOf(this.initPid)) signal(p, 'SIGKILL');
      // A container paused by a fault (pause_sshd) cannot be stopped until it is thawed.
      await this.engine.docker.getContainer(this.container.getId()).unpause().catch(() => undefined);
      // Killed at once (timeout 0) and removed: a test host holds nothing worth a graceful exit.
      await this.container.stop({ timeout: 0, remove: true, removeVolumes: true }).catch(() => undefined);
      await this.tail.close();
    })();
    return this.stopping;
  }

  syncLog(): Promise<void> {
    return this.tail.sync();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
