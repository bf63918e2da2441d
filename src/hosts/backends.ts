import type { OpenSshTools } from '../ssh/openssh-tools.js';
import type { HostBackend } from './host.js';
import { CONTAINERS_FILE } from './state-dir.js';

/**
 * A kind of host a scenario's `backend` names: how it is made for a run (its code loaded then: the
 * scenario's schema and rules need only these properties), and what it offers that rules
 * elsewhere depend on. A new backend is a folder of its own and a line in BACKEND_REGISTRY;
 * the scenario's schema, fault rules and the runner read these properties, never its name.
 */
export interface BackendKind {
  /** Makes the backend for a run; heavy code is loaded here, on demand. */
  create(tools: OpenSshTools, options: { onNotice?: (message: string) => void }): Promise<HostBackend>;
  /** Its hosts are processes of this machine, on this machine's addresses (a tool may serve them files from this process). */
  readonly sameMachine?: boolean;
  /** It starts client containers, which launch the transfers (`client: container`, `transfer.from`). */
  readonly clientContainers?: boolean;
  /** Why every fault on its hosts needs root, when it does. */
  readonly faultsNeedRoot?: string;
  /** Its hosts run an sshd release of their own (an image's): `sshd -t` on this machine is a first check only. */
  readonly ownSshd?: boolean;
  /** A file its runs leave in the state folder, so `clean` knows to look for its leftovers. */
  readonly stateMarker?: string;
  /**
   * Why xferbench neither configures nor observes its sshd, when it does not (a site's server):
   * faults on its hosts are refused with this reason, their sshd options are the model's only,
   * and reports say "server side not observed" where they would count sshd's drops.
   */
  readonly unobserved?: string;
  /** Why a `link:` cannot stand in front of its hosts, when it cannot (docs/links.md). */
  readonly noLinks?: string;
  /** Every host of it names where it is (an `external:` block), which makes a run aim load at someone's server. */
  readonly external?: boolean;
}

export const BACKEND_REGISTRY = {
  local: {
    async create(tools) {
      const { LocalBackend } = await import('./local/local-backend.js');
      return new LocalBackend(tools);
    },
    sameMachine: true,
  },
  container: {
    // Loaded on demand: the engine clients cost ~0.6 s to import, which local runs do not need.
    async create(_tools, { onNotice }) {
      const { ContainerBackend } = await import('./container/container-backend.js');
      return new ContainerBackend(onNotice ? { onProgress: onNotice } : {});
    },
    clientContainers: true,
    faultsNeedRoot: 'faults act on a container through its processes on this machine (nsenter)',
    ownSshd: true,
    stateMarker: CONTAINERS_FILE,
  },
  external: {
    async create() {
      const { ExternalBackend } = await import('./external/external-host.js');
      return new ExternalBackend();
    },
    unobserved: 'xferbench did not start this sshd: its configuration, its log and its processes are the site\'s',
    external: true,
    noLinks: "a site's server is reached through its own network and jump hosts, which a relay on this machine does not stand in",
  },
} satisfies Record<string, BackendKind>;

export type BackendName = keyof typeof BACKEND_REGISTRY;
export const BACKEND_NAMES = Object.keys(BACKEND_REGISTRY) as [BackendName, ...BackendName[]];

/** The backend a (raw) scenario names; `local`, the default, when it names none the schema knows. */
export const backendName = (name: unknown): BackendName => (typeof name === 'string' && Object.hasOwn(BACKEND_REGISTRY, name) ? (name as BackendName) : 'local');

export const backendKind = (name: unknown): BackendKind => BACKEND_REGISTRY[backendName(name)];

/** The backend that starts one host: `external` for a host with an `external:` block, else the scenario's. */
export const hostBackendName = (scenarioBackend: unknown, host: unknown): BackendName =>
  typeof host === 'object' && host !== null && (host as { external?: unknown }).external !== undefined ? 'external' : backendName(scenarioBackend);

/** The hosts of a (raw) scenario that are someone else's servers. */
export function externalHosts(scenarioBackend: unknown, hosts: unknown): string[] {
  if (typeof hosts !== 'object' || hosts === null) return [];
  return Object.entries(hosts).flatMap(([name, h]) => (backendKind(hostBackendName(scenarioBackend, h)).external ? [name] : []));
}
