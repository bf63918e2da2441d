import { userInfo } from 'node:os';
import { XferbenchError } from '../util/errors.js';
import { CONFIG_WORD } from '../ssh/ssh-client-config.js';
import type { Ssh2Target } from '../ssh/ssh2-connect.js';
import { hostKeysFrom } from '../ssh/known-hosts.js';
import { EXTERNAL_CAPS } from '../spec/external-host.js';

/** A live sshd to probe from the outside, with a key it accepts and the host keys to trust; `via` a jump host (same key). */
export type ProbeTarget = Ssh2Target & { via?: Ssh2Target };

/** Without the explicit flag, a probe holds at most this many connections or channels at once. */
export const DEFAULT_MAX = EXTERNAL_CAPS.concurrency;

/** `[user@]host[:port]`, host a name or address (IPv6 in brackets); no other characters. */
export function parseDestination(text: string): { user: string; host: string; port: number } {
  const m = /^(?:([a-z_][a-z0-9_.-]{0,31})@)?(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]{1,253})(?::(\d{1,5}))?$/.exec(text);
  const port = Number(m?.[3] ?? 22);
  if (!m || port < 1 || port > 65535) throw new XferbenchError(`"${text.slice(0, 80)}" is not [user@]host[:port]`);
  return { user: m[1] ?? userInfo().username, host: m[2]!.replace(/^\[|\]$/g, ''), port };
}

/** `[user@]host[:port]` as a target that logs in with `identity`, its keys pinned from `knownHosts`. */
export async function sshTarget(destination: string, identity: string, knownHosts: string): Promise<Ssh2Target> {
  const { user, host, port } = parseDestination(destination);
  return { address: host, port, user, privateKeyPath: identity, hostKeys: await hostKeysFrom(knownHosts, host, port) };
}

export interface ProbeFlags {
  /** `[user@]host[:port]` of a jump host (its key in the same known_hosts, the same key logs in). */
  jump?: string;
  identity: string;
  knownHosts: string;
  max: number;
  administer?: boolean;
}

/** The CLI's destination and files, checked; --max above the default needs the explicit flag (probeHost checks the rest). */
export async function probeTarget(destination: string, flags: ProbeFlags): Promise<ProbeTarget> {
  if (flags.max > DEFAULT_MAX && !flags.administer) {
    throw new XferbenchError(`--max ${flags.max} is above ${DEFAULT_MAX}: a probe is a load test on someone's server; add --i-administer-this-host if it is yours`);
  }
  if (!CONFIG_WORD.test(flags.identity)) throw new XferbenchError(`the key path ${JSON.stringify(flags.identity)} has characters an ssh_config cannot carry safely (the ControlMaster check writes one)`);
  const at = (text: string) => sshTarget(text, flags.identity, flags.knownHosts);
  return { ...(await at(destination)), ...(flags.jump ? { via: await at(flags.jump) } : {}) };
}
