import { randomBytes } from 'node:crypto';
import { readdir, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { runCommand, type CommandResult } from '../process/run-command.js';

/** Next to a host's files, one per table a fault added for it (NAME in the file name), for `clean` after a SIGKILL. */
const TABLE_FILE_PREFIX = 'nft-table-';

/** How a host's traffic is filtered (faults reset and bandwidth), as nftables rules. */
export interface TrafficRules {
  /** Share of new connections answered with a TCP reset, 0..1. */
  resetShare?: number;
  /** Bytes per second allowed each way; the rest is dropped (policed, not shaped). */
  rateBytesPerS?: number;
}

/**
 * The rules for traffic to and from `address:port`, in nft's own syntax (pure; values are numbers).
 * `inbound` is the hook where traffic to the host is policed: `output` where the clients are local
 * processes of the same namespace (loopback), `input` inside a container's namespace, where it
 * arrives from outside; traffic from the host always leaves through `output`.
 */
export function renderTable(name: string, address: string, port: number, rules: TrafficRules, inbound: 'input' | 'output' = 'output'): string {
  const input: string[] = [];
  const output: string[] = [];
  if (rules.resetShare !== undefined) {
    input.push(`ip daddr ${address} tcp dport ${port} tcp flags & (syn | ack) == syn numgen random mod 1000 < ${Math.round(rules.resetShare * 1000)} reject with tcp reset`);
  }
  if (rules.rateBytesPerS !== undefined) {
    // Loopback packets are up to 64 KiB: the burst must hold a few of them.
    const rate = `limit rate over ${Math.round(rules.rateBytesPerS)} bytes/second burst ${Math.max(262_144, Math.round(rules.rateBytesPerS / 10))} bytes drop`;
    (inbound === 'input' ? input : output).push(`ip daddr ${address} tcp dport ${port} ${rate}`);
    output.push(`ip saddr ${address} tcp sport ${port} ${rate}`);
  }
  const chain = (hook: string, lines: string[]) => (lines.length ? [`  chain ${hook} {`, `    type filter hook ${hook} priority 0; policy accept;`, ...lines.map((l) => `    ${l}`), '  }'] : []);
  return [`table inet ${name} {`, ...chain('input', input), ...chain('output', output), '}', ''].join('\n');
}

/**
 * Where a host's rules go: this machine's network namespace (a record beside the host's files lets
 * `clean` delete the table after a SIGKILL), or a container's, entered through its init with
 * nsenter (the table goes with the namespace when the container is removed).
 */
export type RulesPlace = { hostDir: string } | { nsenter: string; pid: number };

/** Runs nft with `args` (and `input` on its stdin). */
type Nft = (args: string[], input?: string) => Promise<CommandResult>;

/** nft in this machine's network namespace, or in the one of `place` (a container's, through nsenter). */
function nftIn(place?: RulesPlace): Nft {
  const [file, prefix] = place && 'pid' in place ? [place.nsenter, ['-t', String(place.pid), '-n', '--', 'nft']] : ['nft', []];
  return (args, input) => runCommand(file, [...prefix, ...args], { timeoutMs: 10_000, ...(input !== undefined ? { input } : {}) });
}

/** Adds a table of rules for a host's address and port; the returned undo deletes it. */
export async function addTrafficRules(place: RulesPlace, address: string, port: number, rules: TrafficRules): Promise<() => Promise<void>> {
  const name = `xferbench_${randomBytes(6).toString('hex')}`;
  const nft = nftIn(place);
  // Recorded first: a run killed right after `nft -f` still leaves the name for `clean`.
  const record = 'hostDir' in place ? join(place.hostDir, `${TABLE_FILE_PREFIX}${name}`) : undefined;
  if (record) await writeFile(record, '');
  const added = await nft(['-f', '-'], renderTable(name, address, port, rules, 'pid' in place ? 'input' : 'output'));
  if (added.exitCode !== 0) throw new Error(`nft refused the rules: ${added.stderr.trim()}`);
  return async () => {
    await deleteTable(name, nft);
    if (record) await rm(record, { force: true });
  };
}

async function deleteTable(name: string, nft: Nft = nftIn()): Promise<void> {
  if (/^xferbench_[0-9a-f]+$/.test(name)) await nft(['delete', 'table', 'inet', name]);
}

/** Deletes every table a dead run recorded anywhere below `runDir`. */
export async function deleteTablesBelow(runDir: string): Promise<number> {
  const files = (await readdir(runDir, { recursive: true }).catch(() => [] as string[])).map((f) => basename(f)).filter((f) => f.startsWith(TABLE_FILE_PREFIX));
  for (const f of files) await deleteTable(f.slice(TABLE_FILE_PREFIX.length));
  return files.length;
}
