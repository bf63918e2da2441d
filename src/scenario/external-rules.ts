import type { FieldIssue } from '../spec/fields.js';
import { backendKind, BACKEND_REGISTRY, externalHosts } from '../hosts/backends.js';

type Raw = { backend?: unknown; hosts: Record<string, unknown>; transfer?: Record<string, unknown>; pipeline?: unknown };

/** One route of a scenario: its far end and jump hosts, where they are written. */
interface Route {
  path: (string | number)[];
  endKey: string;
  end: unknown;
  via: unknown;
  /** A pipeline's stage-out host: its files are committed and checked on this machine. */
  stageOut?: boolean;
}

function routes(raw: Raw): Route[] {
  const out: Route[] = [];
  if (raw.transfer && typeof raw.transfer === 'object') out.push({ path: ['transfer'], endKey: 'to', end: raw.transfer.to, via: raw.transfer.via });
  const p = raw.pipeline as Record<string, Record<string, unknown> | undefined> | undefined;
  if (p && typeof p === 'object') {
    if (p.stage_in && typeof p.stage_in === 'object') out.push({ path: ['pipeline', 'stage_in'], endKey: 'from', end: p.stage_in.from, via: p.stage_in.via });
    if (p.stage_out && typeof p.stage_out === 'object') out.push({ path: ['pipeline', 'stage_out'], endKey: 'to', end: p.stage_out.to, via: p.stage_out.via, stageOut: true });
  }
  return out;
}

/**
 * Where a scenario's hosts that are someone else's servers (docs/site.md) may stand: each is one
 * server; a transfer's end needs a run folder there (`dir`); hosts on this machine's loopback and
 * external ones are not chained through each other (a site's jump host cannot reach this machine's
 * 127.0.0.x, and xferbench's own SFTP session to an external host takes the transfers' route);
 * a pipeline stages out to this machine for now. Works on raw data, like crossFieldIssues.
 */
export function externalIssues(raw: Raw): FieldIssue[] {
  const out: FieldIssue[] = [];
  const external = new Set(externalHosts(raw.backend, raw.hosts));
  if (backendKind(raw.backend).external) {
    for (const [h, spec] of Object.entries(raw.hosts)) {
      if ((spec as { external?: unknown } | null)?.external === undefined) out.push({ path: ['hosts', h, 'external'], message: 'backend: external: name this host\'s server (external: address, user, identity, known_hosts and, where files go, dir)' });
    }
  }
  if (external.size === 0) return out;
  const mixes = Object.entries(BACKEND_REGISTRY).filter(([, k]) => 'sameMachine' in k).map(([n]) => n);
  if (!backendKind(raw.backend).external && !backendKind(raw.backend).sameMachine) {
    out.push({ path: ['backend'], message: `external hosts mix with backend: ${mixes.join(' or ')} hosts only (a container's network does not reach a site's servers)` });
  }
  for (const h of external) {
    if ((raw.hosts[h] as { count?: unknown } | null)?.count !== undefined) out.push({ path: ['hosts', h, 'count'], message: 'an external host is one server: count does not apply' });
  }
  const hasDir = (h: string) => typeof (raw.hosts[h] as { external?: { dir?: unknown } } | null)?.external?.dir === 'string';
  for (const r of routes(raw)) {
    if (typeof r.end !== 'string' || !Object.hasOwn(raw.hosts, r.end)) continue;
    const via = Array.isArray(r.via) ? r.via.filter((v): v is string => typeof v === 'string' && Object.hasOwn(raw.hosts, v)) : [];
    if (external.has(r.end)) {
      if (!hasDir(r.end)) out.push({ path: [...r.path, r.endKey], message: `host "${r.end}" has no external.dir: an external host without one is only a jump host` });
      if (r.stageOut) out.push({ path: [...r.path, r.endKey], message: `"${r.end}" is an external host: a pipeline stages out to a host on this machine for now (its commits, cleanup and invariants act on the delivered files directly); stage in from an external host, or jump through one` });
      for (const [i, v] of via.entries()) {
        if (!external.has(v)) out.push({ path: [...r.path, 'via', i], message: `"${v}" runs on this machine: an external host is reached directly or through external jump hosts only` });
      }
    } else {
      for (const [i, v] of via.entries()) {
        if (external.has(v)) out.push({ path: [...r.path, 'via', i], message: `"${v}" is an external host: it cannot reach "${r.end}", which runs on this machine's loopback` });
      }
    }
  }
  const stageIn = (raw.pipeline as { stage_in?: { from?: unknown; commit?: unknown } } | undefined)?.stage_in;
  if (typeof stageIn?.from === 'string' && external.has(stageIn.from) && stageIn.commit === 'temp-rename') {
    out.push({ path: ['pipeline', 'stage_in', 'commit'], message: 'temp-rename records each source file\'s metadata on this machine: not with an external stage-in host yet' });
  }
  return out;
}
