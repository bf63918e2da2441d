import type { FieldIssue } from '../spec/fields.js';
import { backendKind, hostBackendName } from '../hosts/backends.js';

/**
 * Where a `link:` may stand: the relay is a process of this machine placed in front of a host's
 * sshd, on every way to it that xferbench made (loopback, a container network's gateway); a
 * backend whose hosts are reached some other way says why not (docs/links.md).
 */
export function linkIssues(raw: { backend?: unknown; hosts: Record<string, unknown> }): FieldIssue[] {
  return Object.entries(raw.hosts).flatMap(([h, spec]) => {
    if ((spec as { link?: unknown } | null)?.link === undefined) return [];
    const why = backendKind(hostBackendName(raw.backend, spec)).noLinks;
    return why ? [{ path: ['hosts', h, 'link'], message: `no link in front of this host: ${why}` }] : [];
  });
}
