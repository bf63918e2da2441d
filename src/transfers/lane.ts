import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { StartedHost } from '../hosts/host.js';
import type { ClientSide } from '../hosts/topology.js';
import type { MuxMode } from '../spec/fields.js';
import { MuxSession, type MuxStatus } from './mux-session.js';
import { laneSshOptions, renderLaneConfig, renderSshWrapper } from './ssh-invocation.js';
import type { DirectEndpoint } from './transfer-tool.js';
import type { SshInvocation } from './transfer-tool.js';

/** One client side talking to one remote host: its own ssh options and, with mux, its own master. */
export interface Lane {
  client: ClientSide;
  /** The remote host's alias as this client reaches it (through the jump hosts). */
  remote: string;
  /** Where a client without the ssh binary reaches the remote host (in-process or own-library tools). */
  direct: DirectEndpoint | undefined;
  ssh: SshInvocation;
  mux: MuxSession;
  /** The lane's ssh_config (written before the first transfer) and its text; none for cp. */
  config: { path: string; text: string } | undefined;
  /** An `ssh` reading that config, for tools that run ssh themselves. */
  wrapper: { bin: string; text: string } | undefined;
}

export interface LaneInput {
  client: ClientSide;
  /** The remote host by name (undefined: cp, no network), and the jump hosts on the way. */
  remote: StartedHost | undefined;
  via: readonly string[];
  mux: MuxMode;
  sshOptions: Readonly<Record<string, string>>;
  /** Where this lane's config, wrapper and master sockets go. */
  controlDir: string;
  /** This machine's ssh (a client container runs its own). */
  ssh: string;
  usesSsh: boolean;
  runsSsh: boolean;
  /** The tool reaches the host without ssh (an in-process client): where to. */
  direct: boolean;
  controlPersistS?: number;
  /** transfer.client_ports: connect through the client's connector, when it has one. */
  clientPorts: boolean;
}

/**
 * The host itself, as this client reaches it without ssh (an in-process client, a tool with its
 * own SSH library): its published address, or its network address from a client container.
 */
function directEndpoint(host: StartedHost, client: ClientSide): DirectEndpoint {
  const at = client.exec ? (host.innerEndpoint ?? host.endpoint) : host.endpoint;
  return { address: at.address, port: at.port, user: host.user, privateKeyPath: host.identityFile ?? client.identityFile, hostKeys: host.hostKeys, knownHostsPath: client.knownHostsPath };
}

/** A lane's settings; nothing is written or started until writeLanes and mux.open. */
export function makeLane(input: LaneInput): Lane {
  const { client, remote } = input;
  const route = remote ? client.route(remote.name, input.via) : { to: '', via: [] };
  const { controlDir } = input;
  // cp (no remote) needs no ssh configuration at all.
  const config = remote
    ? {
        path: `${controlDir}.ssh_config`,
        text: renderLaneConfig({ base: client.sshConfig, host: route.to, via: route.via, mux: input.mux, controlDir, options: input.sshOptions, ...(client.connector && input.clientPorts ? { connector: client.connector } : {}), ...(input.controlPersistS !== undefined ? { controlPersistS: input.controlPersistS } : {}) }),
      }
    : undefined;
  const options = config ? laneSshOptions(config.path) : [];
  // A client container's ssh is its own; the wrapper there must not find itself on PATH.
  const wrapper = config && input.runsSsh ? { bin: `${controlDir}.bin`, text: renderSshWrapper(client.exec ? '/usr/bin/ssh' : input.ssh, config.path) } : undefined;
  const ssh = { ssh: client.ssh ?? input.ssh, options, via: route.via, ...(config ? { configPath: config.path } : {}), ...(wrapper ? { bin: wrapper.bin } : {}) };
  const mux = new MuxSession({ mode: input.usesSsh ? input.mux : 'off', ssh: ssh.ssh, options, host: route.to, controlDir, ...(client.exec ? { exec: client.exec } : {}) });
  const direct = input.direct && remote ? directEndpoint(remote, client) : undefined;
  return { client, remote: route.to, direct, ssh, mux, config, wrapper };
}

/** Writes every lane's ssh_config and ssh wrapper (0600/0700: they name the run's key). */
export async function writeLanes(lanes: Iterable<Lane>): Promise<void> {
  await Promise.all(
    [...lanes].map(async ({ config, wrapper }) => {
      if (config) await writeFile(config.path, config.text, { mode: 0o600 });
      if (!wrapper) return;
      await mkdir(wrapper.bin, { mode: 0o700 });
      await writeFile(join(wrapper.bin, 'ssh'), wrapper.text, { mode: 0o700 });
    }),
  );
}

/** Combines the masters of every lane into one mux status. */
export function muxSummary(statuses: MuxStatus[]): MuxStatus {
  const failed = statuses.find((s) => s.master_ok === false);
  const first = statuses[0]!;
  if (failed) return { ...failed, ...(statuses.length > 1 ? { master_error: `${statuses.filter((s) => s.master_ok === false).length} of ${statuses.length} masters failed; first: ${failed.master_error}` } : {}) };
  return first;
}
