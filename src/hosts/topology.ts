import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LinkRelay, behindLink } from './link/link-relay.js';
import { linkOf, type Link } from '../spec/link.js';
import { HostStartError } from '../util/errors.js';
import type { HostSpec } from '../spec/host.js';
import type { CommandWrapper, HostBackend, HostEndpoint, HostStartContext, StartedHost } from './host.js';
import type { HostFiles } from './host-files.js';
import { LocalHostFiles } from './local/local-host-files.js';
import { renderKnownHosts, renderSshClientConfig, type ClientHostEntry } from '../ssh/ssh-client-config.js';
import { connectorScript, containerConnector } from '../ssh/connector.js';

/** Where transfers are launched from (this machine, or a client container) and its ssh configuration. */
export interface ClientSide {
  /** `machine`, or the host the client runs in. */
  readonly name: string;
  files: HostFiles;
  /** Directory on the client for datasets (push sources, pull destinations). */
  dataRoot: string;
  /** ssh_config passed with -F: host aliases, the run key, the generated known_hosts. */
  sshConfigPath: string;
  /** The same file's text: each lane's config starts with its own block and appends it. */
  sshConfig: string;
  knownHostsPath: string;
  /** The run's private key as this client reads it. */
  identityFile: string;
  /** Runs client commands inside a container; absent on the machine. */
  exec?: CommandWrapper;
  /** The ProxyCommand prefix its ssh connects through, which says each connection's local port (ssh/connector.ts). */
  connector?: string;
  /** The ssh program to name in commands (a client container uses its own). */
  ssh?: string;
  /** Config aliases for a route: hops past the first are reached from inside the topology's network. */
  route(to: string, via: readonly string[]): { to: string; via: string[] };
}

/** All hosts of one topology, started together and stopped together. */
export interface StartedTopology extends AsyncDisposable {
  readonly hosts: ReadonlyMap<string, StartedHost>;
  /** The first client side; every one when transfers are launched from several client containers. */
  readonly client: ClientSide;
  readonly clients: readonly ClientSide[];
  /** Milliseconds the start took (hosts in parallel, configs written). */
  readonly startMs: number;
  host(name: string): StartedHost;
  /** The started hosts behind a scenario host: itself, or NAME-1..NAME-K for `count: K`. */
  replicas(name: string): string[];
  stop(): Promise<void>;
}

export interface TopologyOptions {
  /** Folder name below the run's state folder; each topology of a run gets its own. */
  dirName?: string;
  /** With `client: container`: the scenario host whose containers launch transfers. */
  clientHost?: string;
  /** More folders client containers must see at the same path (ControlPath sockets). */
  sharedDirs?: readonly string[];
  /** Folders every host must see at the same path (a pipeline's staging folders). */
  hostDirs?: readonly string[];
  /** The machine client's connector (ssh/connector.ts); client containers run their own copy. */
  connector?: string;
  /** The jump hosts on the way to each host (plan.ts TopologyGroup.reach). */
  reach?: Readonly<Record<string, readonly string[]>>;
}

/** Host names after `count` is expanded. */
export function replicaNames(name: string, spec: Pick<HostSpec, 'count'>): string[] {
  const count = spec.count ?? 1;
  return count === 1 ? [name] : Array.from({ length: count }, (_, i) => `${name}-${i + 1}`);
}

/** The alias of a host as reached from inside the topology's network (another host, a jump hop). */
export const innerAlias = (name: string) => `${name}+net`;

/**
 * Starts every host in parallel. If any fails, the ones already started are stopped before the
 * error propagates, so a failed start leaves nothing running.
 */
export async function startTopology(
  backend: HostBackend,
  specs: Readonly<Record<string, HostSpec>>,
  ctx: HostStartContext,
  options: TopologyOptions = {},
): Promise<StartedTopology> {
  const t0 = performance.now();
  // Each topology of a run gets its own folder: hosts never reuse another topology's keys or data.
  const topologyDir = join(ctx.stateDir, options.dirName ?? 'topology');
  // Client data is shared by every topology of a run, so a push dataset is generated once.
  const dataRoot = join(ctx.stateDir, 'client-data');
  const insideDir = join(topologyDir, 'client-in-container');
  await mkdir(dataRoot, { recursive: true, mode: 0o700 });
  // Backends make their hosts' folders below it; an external host makes none.
  await mkdir(topologyDir, { recursive: true, mode: 0o700 });
  if (options.clientHost) await mkdir(insideDir, { recursive: true, mode: 0o700 });
  const replicas = new Map(Object.entries(specs).map(([name, spec]) => [name, replicaNames(name, spec)]));
  const starts = [...replicas].flatMap(([name, names]) => names.map((n) => ({ n, spec: specs[name]!, client: name === options.clientHost })));

  const group = await backend.open({ ...ctx, stateDir: topologyDir });
  // The links' relay, only when a host has one: without `link:` nothing sits in front of sshd.
  const relay = starts.some((s) => s.spec.link)
    ? await LinkRelay.start().catch(async (e: unknown) => {
        await group[Symbol.asyncDispose]();
        throw e;
      })
    : undefined;
  const results = await Promise.allSettled(
    starts.map(async ({ n, spec, client }, i) => {
      const mounts = [...(client ? [dataRoot, insideDir, ...(options.sharedDirs ?? [])] : []), ...(options.hostDirs ?? [])];
      const through = (options.reach?.[n] ?? []).filter((h) => specs[h]).map((h) => ({ name: h, spec: specs[h]! }));
      const host = await group.start(n, i, spec, { ...(mounts.length > 0 ? { mounts } : {}), ...(client ? { readOnlyMounts: [connectorScript()] } : {}), ...(through.length > 0 ? { through } : {}) });
      if (!spec.link || !relay) return host;
      const link = linkOf(spec.link);
      const opened = await openLink(relay, host, link, i + 1).catch(async (e: unknown) => {
        await host.stop();
        throw e;
      });
      return behindLink(host, relay, opened.id, opened, link);
    }),
  );
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      await Promise.allSettled(started.map((h) => h.stop()));
      await relay?.stop();
      await group[Symbol.asyncDispose]();
    })());
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  const hosts = new Map(started.map((h) => [h.name, h]));
  try {
    const entry = (h: StartedHost, alias: string, at = h.endpoint): ClientHostEntry => ({ alias, address: at.address, port: at.port, user: h.user, hostKeys: [...h.hostKeys], ...(h.identityFile ? { identityFile: h.identityFile } : {}) });
    const machineEntries = started.flatMap((h) => [entry(h, h.name), ...(h.innerEndpoint ? [entry(h, innerAlias(h.name), h.innerEndpoint)] : [])]);
    const machine = await writeClientConfig(topologyDir, machineEntries, ctx.clientKey.privatePath);
    const machineClient: ClientSide = {
      name: 'machine',
      files: new LocalHostFiles(),
      dataRoot,
      ...machine,
      ...(options.connector ? { connector: options.connector } : {}),
      route: (to, via) => {
        const inner = (n: string) => (hosts.get(n)?.innerEndpoint ? innerAlias(n) : n);
        const hops = via.map((v, i) => (i === 0 ? v : inner(v)));
        return { to: via.length > 0 ? inner(to) : to, via: hops };
      },
    };
    let clients: ClientSide[] = [machineClient];
    if (options.clientHost) {
      // Inside the network every host is reached at its container address; the client key is
      // copied where the client containers see it.
      const key = join(insideDir, 'client_ed25519');
      await copyFile(ctx.clientKey.privatePath, key);
      const inside = await writeClientConfig(insideDir, started.map((h) => entry(h, h.name, h.innerEndpoint ?? h.endpoint)), key);
      // Their ssh connects through the connector too, so that their drops are matched by port.
      const connector = containerConnector();
      clients = (replicas.get(options.clientHost) ?? []).map((n) => {
        const h = hosts.get(n)!;
        if (!h.exec) throw new HostStartError(`host "${n}" cannot launch transfers: running commands inside it needs root (nsenter) or the engine's command-line client (docker or podman) on PATH`);
        return { name: n, files: new LocalHostFiles(), dataRoot, ...inside, exec: h.exec, ssh: 'ssh', connector, route: (to, via) => ({ to, via: [...via] }) };
      });
    }
    return {
      hosts,
      client: clients[0]!,
      clients,
      startMs: performance.now() - t0,
      host(name) {
        const h = hosts.get(name);
        if (!h) throw new Error(`no host "${name}" in this topology`);
        return h;
      },
      replicas: (name) => replicas.get(name) ?? [name],
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}

/**
 * The host's link on every way to its sshd: from this machine (another port of its address), and
 * when the topology's hosts reach it on a network of their own, from there (this machine's address
 * on that network), so a jump host or a client container crosses the same link.
 */
async function openLink(relay: LinkRelay, host: StartedHost, link: Link, seed: number): Promise<{ id: number; endpoint: HostEndpoint; innerEndpoint?: HostEndpoint }> {
  const inner = host.innerEndpoint;
  if (inner && !host.innerGateway) throw new HostStartError(`host "${host.name}": its link needs an address of this machine on the host's network, where the topology's other hosts reach it, and the container engine named none (an engine on another machine, or a network with no gateway here)`);
  const routes = [{ listen: host.endpoint.address, upstream: host.endpoint }, ...(inner && host.innerGateway ? [{ listen: host.innerGateway, upstream: inner }] : [])];
  const { id, endpoints } = await relay.open(link, routes, seed);
  return { id, endpoint: endpoints[0]!, ...(endpoints[1] ? { innerEndpoint: endpoints[1] } : {}) };
}

async function writeClientConfig(dir: string, entries: ClientHostEntry[], identityFile: string): Promise<{ sshConfigPath: string; sshConfig: string; knownHostsPath: string; identityFile: string }> {
  const knownHostsPath = join(dir, 'known_hosts');
  const sshConfigPath = join(dir, 'ssh_config');
  const sshConfig = renderSshClientConfig({ hosts: entries, identityFile, knownHostsFile: knownHostsPath });
  await writeFile(knownHostsPath, renderKnownHosts(entries), { mode: 0o600 });
  await writeFile(sshConfigPath, sshConfig, { mode: 0o600 });
  return { sshConfigPath, sshConfig, knownHostsPath, identityFile };
}
