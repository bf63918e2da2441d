import { hostname } from 'node:os';
import { SetupError } from '../../util/errors.js';
import { containerEngine, type ContainerEngine } from './container-engine.js';
import { LABEL, LABEL_GROUP, LABEL_OWNER_MACHINE, LABEL_OWNER_PID } from './container-labels.js';
import { isAlive } from '../../process/process-tree.js';

export interface ContainerSelection {
  /** Only what this topology created. */
  group?: string;
  /** Everything labelled by xferbench, whoever owns it (otherwise only runs whose process is gone). */
  all?: boolean;
}

type Labelled = { Labels?: Record<string, string> | null };

function selected(item: Labelled, sel: ContainerSelection): boolean {
  const labels = item.Labels ?? {};
  if (labels[LABEL] !== 'true') return false;
  if (sel.group) return labels[LABEL_GROUP] === sel.group;
  if (sel.all) return true;
  // A run on another machine sharing the engine is not ours to judge.
  if (labels[LABEL_OWNER_MACHINE] !== hostname()) return false;
  const pid = Number(labels[LABEL_OWNER_PID]);
  return !(pid === process.pid || (pid > 0 && isAlive(pid)));
}

/** Removes xferbench's containers, then its networks (a network in use cannot go first). */
export async function removeContainerLeftovers(engine: ContainerEngine, sel: ContainerSelection): Promise<{ containers: number; networks: number }> {
  const filters = JSON.stringify({ label: [`${LABEL}=true`] });
  const containers = (await engine.docker.listContainers({ all: true, filters })).filter((c) => selected(c, sel));
  await Promise.all(containers.map((c) => engine.docker.getContainer(c.Id).remove({ force: true, v: true }).catch(() => undefined)));
  const networks = (await engine.docker.listNetworks({ filters })).filter((n) => selected(n, sel));
  await Promise.all(networks.map((n) => engine.docker.getNetwork(n.Id).remove().catch(() => undefined)));
  return { containers: containers.length, networks: networks.length };
}

/**
 * `xferbench clean`: removes what crashed runs left, where an engine can be reached. Returns
 * undefined when there is no engine at all (nothing can have been left in one). A private
 * Podman service is started only with `startService` (a dead run used containers, or --all).
 */
export async function cleanContainers(sel: ContainerSelection, options: { startService?: boolean } = {}): Promise<{ containers: number; networks: number } | undefined> {
  let engine: ContainerEngine;
  try {
    engine = await containerEngine(process.env, options);
  } catch (e) {
    if (e instanceof SetupError) return undefined;
    throw e;
  }
  return removeContainerLeftovers(engine, sel);
}
