import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { HostSpec } from '../scenario/scenario-schema.js';
import type { HostBackend, HostStartContext, StartedHost } from './host.js';
import type { HostFiles } from './host-files.js';
import { LocalHostFiles } from './local-host-files.js';
import { renderKnownHosts, renderSshClientConfig } from './ssh-client-config.js';

/** Where transfers are launched from (this machine for now) and its ssh configuration. */
export interface ClientSide {
  files: HostFiles;
  /** Directory on the client for datasets (push sources, pull destinations). */
  dataRoot: string;
  /** ssh_config passed with -F: host aliases, the run key, the generated known_hosts. */
  sshConfigPath: string;
  knownHostsPath: string;
}

/** All hosts of one topology, started together and stopped together. */
export interface StartedTopology extends AsyncDisposable {
  readonly hosts: ReadonlyMap<string, StartedHost>;
  readonly client: ClientSide;
  /** Milliseconds the start took (hosts in parallel, configs written). */
  readonly startMs: number;
  host(name: string): StartedHost;
  stop(): Promise<void>;
}

/**
 * Starts every host in parallel. If any fails, the ones already started are stopped before the
 * error propagates, so a failed start leaves nothing running.
 */
export async function startTopology(
  backend: HostBackend,
  specs: Readonly<Record<string, HostSpec>>,
  ctx: HostStartContext,
  dirName = 'topology',
): Promise<StartedTopology> {
  const t0 = performance.now();
  const names = Object.keys(specs);
  // Each topology of a run gets its own folder: hosts never reuse another topology's keys or data.
  const clientDir = join(ctx.stateDir, dirName);
  const hostCtx = { ...ctx, stateDir: clientDir };
  const results = await Promise.allSettled(names.map((name, i) => backend.start(name, i, specs[name]!, hostCtx)));
  const started = results.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) {
    await Promise.allSettled(started.map((h) => h.stop()));
    throw failed.reason;
  }
  const hosts = new Map(started.map((h) => [h.name, h]));
  const stop = async () => {
    await Promise.allSettled(started.map((h) => h.stop()));
  };
  try {
    // Client data is shared by every topology of a run, so a push dataset is generated once.
    const dataRoot = join(ctx.stateDir, 'client-data');
    await mkdir(clientDir, { recursive: true, mode: 0o700 });
    await mkdir(dataRoot, { recursive: true, mode: 0o700 });
    const knownHostsPath = join(clientDir, 'known_hosts');
    const sshConfigPath = join(clientDir, 'ssh_config');
    const entries = started.map((h) => ({ alias: h.name, address: h.endpoint.address, port: h.endpoint.port, user: h.user, hostKeys: [...h.hostKeys] }));
    await writeFile(knownHostsPath, renderKnownHosts(entries), { mode: 0o600 });
    await writeFile(
      sshConfigPath,
      renderSshClientConfig({ hosts: entries, identityFile: ctx.clientKey.privatePath, knownHostsFile: knownHostsPath }),
      { mode: 0o600 },
    );
    const client: ClientSide = { files: new LocalHostFiles(), dataRoot, sshConfigPath, knownHostsPath };
    return {
      hosts,
      client,
      startMs: performance.now() - t0,
      host(name) {
        const h = hosts.get(name);
        if (!h) throw new Error(`no host "${name}" in this topology`);
        return h;
      },
      stop,
      [Symbol.asyncDispose]: stop,
    };
  } catch (e) {
    await stop();
    throw e;
  }
}
