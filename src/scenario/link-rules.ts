import type { FieldIssue } from '../spec/fields.js';
import { backendKind, BACKEND_REGISTRY, hostBackendName } from '../hosts/backends.js';

/**
 * Where a `link:` may stand: the relay is a process of this machine placed in front of a host's
 * sshd, which every client and jump host of a same-machine backend reaches on loopback. A
 * container's inner network and a site's server are not reached through it (docs/links.md).
 */
export function linkIssues(raw: { backend?: unknown; hosts: Record<string, unknown> }): FieldIssue[] {
  const onMachine = Object.entries(BACKEND_REGISTRY).filter(([, k]) => 'sameMachine' in k).map(([n]) => n);
  return Object.entries(raw.hosts).flatMap(([h, spec]) => {
    if ((spec as { link?: unknown } | null)?.link === undefined) return [];
    const backend = hostBackendName(raw.backend, spec);
    if (backendKind(backend).sameMachine) return [];
    return [{ path: ['hosts', h, 'link'], message: `a link's relay runs on this machine in front of the host's sshd: hosts of backend: ${onMachine.join(' or ')} only for now (this host is ${backend === 'external' ? 'a site\'s server' : `backend: ${backend}`})` }];
  });
}
