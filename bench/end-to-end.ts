// End-to-end rows of `npm run bench`: `xferbench run` against bench/shell-baseline.sh doing the
// same work, each timed as a whole process (wall, and CPU of the process and everything it
// waited for), alternating in pairs; the ratio is taken per pair.
import { readFile, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execa } from 'execa';
import { stringify } from 'yaml';
import type { OpenSshTools } from '../src/ssh/openssh-tools.js';
import { renderSshdConfig } from '../src/ssh/sshd-config.js';
import { renderSshClientConfig } from '../src/ssh/ssh-client-config.js';
import { loginAccount } from '../src/hosts/login-account.js';
import { freePort } from '../src/hosts/loopback-address.js';
import { percentile } from '../src/report/statistics.js';
import { LOAD } from '../src/records/cell-record.js';
import { againstCp, type Yardsticks } from './yardsticks.js';

export type AddRow = (benchmark: string, result: string, target: string, ok: boolean | undefined) => void;

const REPO = join(import.meta.dirname, '..');
// The command line as users run it (package.json "bin": the bundle scripts/bundle-cli.mjs writes).
export const CLI = join(REPO, 'dist', 'bin', 'xferbench.js');
const BASELINE = join(REPO, 'bench', 'shell-baseline.sh');
const SSHD = { MaxStartups: '2000', MaxSessions: '2000' };
const BASELINE_ADDRESS = '127.0.0.250';

export interface Case {
  files: number;
  size: number;
  concurrency: number;
  tool: 'rsync' | 'cp';
}

export interface Measured {
  wallMs: number;
  cpuMs: number;
  /** Most children the launching process (xargs, or xferbench's launcher) had at once, sampled. */
  peakChildren: number;
  /** xferbench's own figure, from its records (summary.json). */
  recordedPeak?: number;
}

/** Prepares the baseline's folder: configs from xferbench's own renderers; keys are made per run. */
async function baselineDir(root: string, tools: OpenSshTools): Promise<string> {
  const dir = join(root, 'baseline');
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const port = await freePort(BASELINE_ADDRESS);
  const user = loginAccount().name;
  await writeFile(join(dir, 'sshd_config'), renderSshdConfig({ hostName: 'target', listen: { address: BASELINE_ADDRESS, port }, hostKeyPath: join(dir, 'host_key'), authorizedKeysPath: join(dir, 'authorized_keys'), user, sessionHome: dir, version: tools.sshdVersion!, options: SSHD }));
  await writeFile(join(dir, 'ssh_config'), renderSshClientConfig({ hosts: [{ alias: 'target', address: BASELINE_ADDRESS, port, user, hostKeys: [] }], identityFile: join(dir, 'client_key'), knownHostsFile: join(dir, 'known_hosts') }));
  await writeFile(join(dir, 'endpoint'), `${BASELINE_ADDRESS} ${port}\n`);
  return dir;
}

async function scenarioFile(root: string, c: Case): Promise<string> {
  const file = join(root, `case-${c.files}-${c.size}-${c.concurrency}-${c.tool}.yaml`);
  await writeFile(file, stringify({
    name: 'bench-e2e',
    hosts: { target: { sshd: SSHD } },
    dataset: { files: c.files, size: c.size, seed: 1 },
    transfer: { tool: c.tool, to: 'target', concurrency: c.concurrency },
    repeat: 1,
  }));
  return file;
}

const childrenOf = async (pid: number) => (await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8').catch(() => '')).split(' ').filter(Boolean).map(Number);
const commOf = async (pid: number) => (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim();

/**
 * Samples how many children the launching process has, every 5 ms: the same measure for xargs
 * and for xferbench's launcher, independent of either's own records. Under hundreds of
 * transfers this process gets little CPU and samples less often, so it undercounts both sides.
 */
function watchLauncher(root: number, comm: string): { stop: () => Promise<number> } {
  let peak = 0;
  let launcher: number | undefined;
  let running = true;
  const loop = (async () => {
    while (running) {
      if (launcher === undefined) {
        for (let queue = [root]; queue.length > 0 && launcher === undefined; ) {
          const pid = queue.shift()!;
          if ((await commOf(pid)).startsWith(comm)) launcher = pid;
          else queue.push(...(await childrenOf(pid)));
        }
      } else {
        peak = Math.max(peak, (await childrenOf(launcher)).length);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  })();
  return { stop: async () => ((running = false), await loop, peak) };
}

/** Runs a command under bash and reads its children's CPU from `times`. */
export async function timed(argv: string[], launcherComm: string): Promise<Measured> {
  const start = performance.now();
  const child = execa('bash', ['-c', '"$@" >/dev/null; s=$?; times; exit $s', 'timed', ...argv], { reject: false });
  const watch = watchLauncher(child.pid!, launcherComm);
  const r = await child;
  const wallMs = performance.now() - start;
  const peakChildren = await watch.stop();
  if (r.exitCode !== 0) throw new Error(`${argv.join(' ')} failed (exit ${r.exitCode}): ${r.stderr.slice(-2000)}`);
  // `times`: the shell's own user/sys, then its children's: "0m1.234s 0m0.567s".
  const seconds = (t: string) => { const m = /(\d+)m([\d.]+)s/.exec(t)!; return Number(m[1]) * 60 + Number(m[2]); };
  const [user, sys] = r.stdout.trim().split('\n').at(-1)!.split(' ');
  return { wallMs, cpuMs: (seconds(user!) + seconds(sys!)) * 1000, peakChildren };
}

const spread = (xs: number[]) => `${percentile(xs, 0)!.toFixed(2)}/${percentile(xs, 50)!.toFixed(2)}/${percentile(xs, 100)!.toFixed(2)}`;

/** What a case is judged on: wall and CPU ratio, harness CPU per transfer, or peak in flight. */
export interface Targets {
  rounds: number;
  ratio?: number;
  /** The harness's CPU per transfer beyond the shell loop's, as a share of one cp's (a yardstick). */
  cpuPerTransferCp?: number;
  /** xferbench's launcher must have had at least as many transfers at once as xargs. */
  peak?: boolean;
}

export async function endToEnd(root: string, tools: OpenSshTools, cases: readonly (Case & Targets)[], yard: Yardsticks, addRow: AddRow): Promise<void> {
  const dir = await baselineDir(root, tools);
  for (const c of cases) {
    const scenario = await scenarioFile(root, c);
    const label = `${c.files} x ${c.size >= 1024 ? `${c.size / 1024} KiB` : `${c.size} B`} ${c.tool} at ${c.concurrency}`;
    console.error(`bench: end to end, ${label}, ${c.rounds} pairs...`);
    const pairs: { x: Measured; s: Measured }[] = [];
    let load: number[] | undefined; // the last run's readings at the end of its repeat
    for (let round = 0; round < c.rounds; round++) {
      const out = join(root, `out-${round}`);
      const xferbench = () => timed([process.execPath, CLI, 'run', scenario, '--out', out, '-q'], 'xferbench-launc');
      const shell = () => timed(['bash', BASELINE, dir, String(c.files), String(c.size), String(c.concurrency), c.tool], 'xargs');
      // Alternate which side goes first, so neither always runs on a warmer machine.
      const [x, s] = round % 2 === 0 ? [await xferbench(), await shell()] : await shell().then(async (s1) => [await xferbench(), s1] as const);
      const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { cells: { repeats: { peak_in_flight: number }[] }[] };
      x.recordedPeak = Math.max(...summary.cells.flatMap((cell) => cell.repeats.map((r) => r.peak_in_flight)));
      const records = (await readFile(join(out, 'results.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string; load?: { samples: number[][] } });
      load = records.find((r) => r.type === 'cell')?.load?.samples.at(-1);
      await rm(out, { recursive: true, force: true });
      pairs.push({ x, s });
    }
    const wall = pairs.map((p) => p.x.wallMs / p.s.wallMs);
    const cpu = pairs.map((p) => p.x.cpuMs / p.s.cpuMs);
    const med = (f: (p: { x: Measured; s: Measured }) => number) => percentile(pairs.map(f), 50)!;
    const perTransfer = (med((p) => p.x.cpuMs) - med((p) => p.s.cpuMs)) / c.files;
    const peaks = [med((p) => p.x.peakChildren), med((p) => p.s.peakChildren)] as const;
    const targets = [
      ...(c.ratio ? [`median wall and CPU ratio <= ${c.ratio}`] : []),
      ...(c.cpuPerTransferCp ? [`harness CPU per transfer beyond the shell's <= ${c.cpuPerTransferCp} × one cp`] : []),
      ...(c.peak ? ['peak in flight >= the shell loop\'s'] : []),
    ];
    const met =
      (!c.ratio || (percentile(wall, 50)! <= c.ratio && percentile(cpu, 50)! <= c.ratio)) &&
      (!c.cpuPerTransferCp || perTransfer <= c.cpuPerTransferCp * yard.cpCpuMs) &&
      (!c.peak || peaks[0] >= peaks[1]);
    addRow(
      `end to end, ${label} (${c.rounds} pair${c.rounds > 1 ? 's' : ''}; ratios min/median/max)`,
      `wall ${spread(wall)} (xferbench ${med((p) => p.x.wallMs).toFixed(0)} ms vs shell ${med((p) => p.s.wallMs).toFixed(0)} ms); ` +
        `CPU ${spread(cpu)} (${med((p) => p.x.cpuMs).toFixed(0)} vs ${med((p) => p.s.cpuMs).toFixed(0)} ms, ${perTransfer.toFixed(2)} ms = ${againstCp(yard, perTransfer)} more per transfer` +
        // Where it went, from the last run's own readings (cells/load-watch.ts): the launcher's fork and reap, the main thread.
        (load ? `; while they ran: launcher ${(load[LOAD.launcherCpu]! / c.files).toFixed(3)} ms per launch (${(load[LOAD.launcherCpu]! / c.files / yard.forkCpuMs).toFixed(1)} × a shell's fork), main thread ${(load[LOAD.harnessCpu]! / c.files).toFixed(3)} ms per transfer` : '') +
        '); ' +
        `peak in flight ${peaks[0]} vs ${peaks[1]} (sampled every 5 ms; xferbench's records: ${med((p) => p.x.recordedPeak ?? 0)})`,
      targets.join(', '),
      met,
    );
  }
}
