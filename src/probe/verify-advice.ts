import { stringify } from 'yaml';
import type { OpenSshTools } from '../ssh/openssh-tools.js';
import { parseScenario } from '../plan/load-plan.js';
import { runScenario, type RunOptions, type RunResult } from '../run/run-scenario.js';
import type { Advice, Workload } from './advise.js';
import type { ProbeResult } from './probe.js';
import { parseDestination } from './probe-target.js';

/** A verify run is a load test on the probed server too: it moves at most this much. */
export const VERIFY_MAX_FILES = 200;
export const VERIFY_MAX_BYTES = 256 * 2 ** 20;

export interface VerifyInput {
  probe: ProbeResult;
  advice: Advice;
  work: Workload;
  /** The key the server accepts and the known_hosts with its key (as for probe). */
  identity: string;
  knownHosts: string;
  /** Folder below the login's home in which the run makes and removes its own. */
  remoteDir: string;
  /** --i-administer-this-host: the run is neither capped nor paced (spec/external-host.ts). */
  administer?: boolean;
  tools: OpenSshTools;
  run?: Pick<RunOptions, 'outDir' | 'signal' | 'onEvent' | 'exporters'>;
}

export interface VerifyResult {
  files: number;
  size: number;
  failed: number;
  failure_rate: number;
  silent_drops: number;
  promised: number;
  kept: boolean;
  run: RunResult;
}

/** The files a verify run moves: the workload, bounded by VERIFY_MAX_FILES and VERIFY_MAX_BYTES. */
export function verifyFiles(work: Workload): number {
  return Math.max(1, Math.min(work.files, VERIFY_MAX_FILES, Math.floor(VERIFY_MAX_BYTES / Math.max(work.size, 1))));
}

/**
 * Runs the advised settings as a scenario against the server that was probed, through the same
 * runner as any scenario (one host, `site`, on the external backend), and compares the failure
 * rate it saw with the one the advice promised.
 */
export async function verifyAdvice(input: VerifyInput): Promise<VerifyResult> {
  // The probed server (and its jump host) as a scenario's external hosts: the same key, the same known_hosts.
  const at = (text: string, dir?: string) => {
    const { user, host, port } = parseDestination(text);
    return { external: { address: host, port, user, identity: input.identity, known_hosts: input.knownHosts, ...(dir !== undefined ? { dir } : {}) } };
  };
  const jump = input.probe.via;
  const files = verifyFiles(input.work);
  const t = input.advice.transfer;
  // Written as a scenario and loaded like one: the same checks as a file from a user.
  const text = stringify({
    name: 'advise-verify',
    description: `advise --verify against ${input.probe.target}${jump ? ` through ${jump}` : ''}`,
    hosts: { site: at(input.probe.target, input.remoteDir), ...(jump ? { jump: at(jump) } : {}) },
    dataset: { files, size: input.work.size },
    transfer: { to: 'site', ...(jump ? { via: ['jump'] } : {}), tool: 'rsync', ...t },
    repeat: 1,
    thresholds: { failure_rate: `<= ${input.advice.promise.failure_rate}`, silent_drops: '== 0' },
  });
  const loaded = parseScenario(text, 'advise --verify', { administer: input.administer === true });
  // The user named this server on the command line: that is the run's --external.
  const run = await runScenario(loaded, { ...input.run, tools: input.tools, external: true, administer: input.administer === true });
  const o = run.summary.overall;
  return {
    files,
    size: input.work.size,
    failed: o.failed,
    failure_rate: o.failure_rate,
    silent_drops: o.silent_drops,
    promised: input.advice.promise.failure_rate,
    kept: run.exitCode === 0,
    run,
  };
}

export function renderVerify(v: VerifyResult, target: string): string {
  const pct = (x: number) => `${Math.round(x * 1000) / 10} %`;
  return [
    `verify: ${v.files} files of ${v.size} bytes to ${target} with the advised settings`,
    `  failed ${v.failed} (${pct(v.failure_rate)}), silent drops ${v.silent_drops}; promised at most ${pct(v.promised)}: ${v.kept ? 'kept' : 'NOT kept'}`,
    `  report: ${v.run.reportDir}`,
  ].join('\n');
}
