import { stringify } from 'yaml';
import { ExternalBackend } from '../hosts/external/external-host.js';
import type { OpenSshTools } from '../ssh/openssh-tools.js';
import { parseOpenSshVersion } from '../ssh/openssh-version.js';
import { parseScenario } from '../plan/load-plan.js';
import { runScenario, type RunOptions, type RunResult } from '../run/run-scenario.js';
import type { Advice, Workload } from './advise.js';
import type { ProbeResult } from './probe.js';
import { sshTarget } from './probe-target.js';

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
  const at = (text: string) => sshTarget(text, input.identity, input.knownHosts);
  const site = await at(input.probe.target);
  // Probed through a jump host: the transfers go through it too (ssh -J), and so does the run's SFTP session.
  const jump = input.probe.via ? await at(input.probe.via) : undefined;
  const files = verifyFiles(input.work);
  const t = input.advice.transfer;
  // Written as a scenario and loaded like one: the same checks as a file from a user.
  const text = stringify({
    name: 'advise-verify',
    description: `advise --verify against ${input.probe.target}${jump ? ` through ${input.probe.via}` : ''}`,
    hosts: { site: {}, ...(jump ? { jump: {} } : {}) },
    dataset: { files, size: input.work.size },
    transfer: { to: 'site', ...(jump ? { via: ['jump'] } : {}), tool: 'rsync', ...t },
    repeat: 1,
    thresholds: { failure_rate: `<= ${input.advice.promise.failure_rate}`, silent_drops: '== 0' },
  });
  const loaded = parseScenario(text, 'advise --verify');
  const version = parseOpenSshVersion(input.probe.banner) ?? { major: 0, minor: 0, patch: 0, text: input.probe.banner };
  const backend = new ExternalBackend({ site: { ...site, dir: input.remoteDir, ...(jump ? { via: jump } : {}) }, ...(jump ? { jump } : {}) }, version);
  const run = await runScenario(loaded, { ...input.run, tools: input.tools, backend: () => backend });
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
