import type { BackendName } from './backends.js';
import { hostBackendName } from './backends.js';
import type { HostBackend, HostGroup } from './host.js';

/**
 * One topology whose hosts come from more than one backend: each host from the backend that
 * starts it (an `external:` block names a site's server), the rest from the scenario's. Each
 * backend's group is opened when its first host starts and disposed with the topology.
 */
export function perHostBackend(scenarioBackend: BackendName, backends: ReadonlyMap<BackendName, HostBackend>): HostBackend {
  const primary = backends.get(scenarioBackend);
  if (!primary) throw new Error(`internal: no ${scenarioBackend} backend for this topology`);
  if (backends.size === 1) return primary;
  return {
    kind: primary.kind,
    sshdVersion: () => primary.sshdVersion(),
    ...(primary.describe ? { describe: () => primary.describe!() } : {}),
    async open(ctx) {
      const groups = new Map<BackendName, Promise<HostGroup>>();
      const groupOf = (name: BackendName) => {
        let g = groups.get(name);
        if (!g) {
          g = backends.get(name)!.open(ctx);
          groups.set(name, g);
        }
        return g;
      };
      return {
        start: async (name, index, spec, options) => (await groupOf(hostBackendName(scenarioBackend, spec))).start(name, index, spec, options),
        [Symbol.asyncDispose]: async () => {
          for (const g of await Promise.allSettled(groups.values())) if (g.status === 'fulfilled') await g.value[Symbol.asyncDispose]();
        },
      };
    },
  };
}
