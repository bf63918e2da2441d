// npm run bench: speed and memory targets of the harness, measured against real sshd hosts.
// Prints a table; each row says what was measured, the figure and the target.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { Bench } from 'tinybench';
import { findTools } from '../src/ssh/openssh-tools.js';
import { LocalBackend } from '../src/hosts/local/local-backend.js';
import { createStateDir } from '../src/hosts/state-dir.js';
import { generateKeyPair } from '../src/ssh/ssh-keys.js';
import { startTopology, type StartedTopology } from '../src/hosts/topology.js';
import { planDataset, sha256Of } from '../src/dataset/dataset.js';
import { datasetSchema } from '../src/spec/dataset.js';
import { type MuxMode } from '../src/spec/fields.js';
import { parseScenario } from '../src/plan/load-plan.js';
import { RsyncTool } from '../src/transfers/rsync-tool.js';
import { CpTool } from '../src/transfers/cp-tool.js';
import { SftpTool } from '../src/transfers/sftp-tool.js';
import { Ssh2SftpTool } from '../src/transfers/ssh2-sftp-tool.js';
import { makeLane, writeLanes, type Lane } from '../src/transfers/lane.js';
import { runTransferPool } from '../src/transfers/transfer-pool.js';
import { Launcher } from '../src/process/launcher.js';
import { findConnector } from '../src/ssh/connector.js';
import { endToEnd, type Case, type Targets } from './end-to-end.js';
import { finalizeBench } from './finalize.js';
import { containerLinkRows, linksBench } from './links.js';
import { costBench } from './cost.js';
import { againstCp, againstNode, describeYardsticks, measureYardsticks } from './yardsticks.js';
import type { TransferTool } from '../src/transfers/transfer-tool.js';
import { classify } from '../src/transfers/failure-classifier.js';
import { parseSshdLine } from '../src/ssh/sshd-log.js';
import { renderSshdConfig } from '../src/ssh/sshd-config.js';
import { percentile } from '../src/report/statistics.js';
import { machineTimes, threadTimes } from '../src/process/cpu-share.js';

type Row = { benchmark: string; result: string; target: string; verdict: string };
const rows: Row[] = [];
const row = (benchmark: string, result: string, target: string, ok: boolean | undefined) =>
  rows.push({ benchmark, result, target, verdict: ok === undefined ? '' : ok ? 'met' : 'MISSED' });
const median = (xs: number[]) => percentile(xs, 50)!;
const only = process.argv.slice(2);
const wanted = (name: string) => only.length === 0 || only.includes(name);

const tools = await findTools();
await using state = await createStateDir();
const clientKey = await generateKeyPair(tools.sshKeygen, join(state.path, 'client_ed25519'), 'bench');
const t0 = performance.now();
const ctx = { stateDir: state.path, clientKey, clock: () => performance.now() - t0 };
const backend = new LocalBackend(tools);
await using launcher = await Launcher.start();
// First, what every row below is also expressed against (bench/yardsticks.ts).
console.error('bench: yardsticks (node -e 0, cp, a shell\'s fork)...');
const yard = await measureYardsticks(state.path);
row('yardsticks, measured first in this run', describeYardsticks(yard), '', undefined);
const RAISED = { MaxStartups: '2000', MaxSessions: '2000' };

/** The lane a cell would use to reach `target` (transfers/lane.ts), its ssh_config written. */
function targetLane(topo: StartedTopology, mux: MuxMode, name: string, direct = false): Promise<Lane> {
  return laneTo(topo, 'target', name, { mux, direct });
}

/** The lane to `host`; through the connector only when `clientPorts` (the harness's launch path otherwise). */
async function laneTo(topo: StartedTopology, host: string, name: string, o: { mux?: MuxMode; direct?: boolean; clientPorts?: boolean }): Promise<Lane> {
  const lane = makeLane({ client: topo.client, remote: topo.host(host), via: [], mux: o.mux ?? 'off', sshOptions: {}, controlDir: join(state.path, name), ssh: tools.ssh, usesSsh: true, runsSsh: false, direct: o.direct ?? false, clientPorts: o.clientPorts ?? false });
  await writeLanes([lane]);
  return lane;
}

async function topologyStart(): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < 20; i++) {
    await using topo = await startTopology(backend, { target: { sshd: {} }, head: { sshd: {} }, worker: { sshd: {} } }, ctx, { dirName: `start-${i}` });
    times.push(topo.startMs);
  }
  row('local topology start, 3 hosts (20 runs)', `median ${median(times).toFixed(0)} ms (${againstNode(yard, median(times))}), p95 ${percentile(times, 95)!.toFixed(0)} ms`, 'median < 300 ms', median(times) < 300);
}

async function writeSource(topo: StartedTopology, files: number, size: string) {
  const plan = planDataset(datasetSchema.parse({ files, size }));
  const dir = join(topo.client.dataRoot, `src-${files}-${size}`);
  await topo.client.files.writeDataset(dir, plan);
  return { plan, dir };
}

/**
 * Tells a blocked event loop from a starved one. Every 10 ms it reads the main thread's
 * schedstat (ns on CPU, ns waiting in the run queue): on-CPU time between two ticks is work this
 * process did without returning to the loop (blocking); run-queue time is the OS giving the CPU
 * to the hundreds of rsync/ssh/sshd processes (starvation). Linux only.
 */
class LoopWatch {
  private readonly delay = monitorEventLoopDelay({ resolution: 10 });
  private timer?: NodeJS.Timeout;
  private last?: [number, number];
  maxBlockedMs = 0;
  maxQueuedMs = 0;

  private read(): [number, number] | undefined {
    const t = threadTimes(process.pid);
    return t ? [t.cpuMs, t.waitMs] : undefined;
  }

  start(): void {
    this.delay.enable();
    this.last = this.read();
    this.timer = setInterval(() => {
      const now = this.read();
      if (now && this.last) {
        this.maxBlockedMs = Math.max(this.maxBlockedMs, now[0] - this.last[0]);
        this.maxQueuedMs = Math.max(this.maxQueuedMs, now[1] - this.last[1]);
      }
      this.last = now;
    }, 10);
  }

  stop(): { delayMs: number; blockedMs: number; queuedMs: number } {
    clearInterval(this.timer);
    this.delay.disable();
    return { delayMs: this.delay.max / 1e6, blockedMs: this.maxBlockedMs, queuedMs: this.maxQueuedMs };
  }
}

/** Busy CPU time of the whole machine (all processes), ms. */
const machineBusyMs = () => machineTimes()!.busyMs;

/**
 * The transfer phase alone, on one sshd and one dataset: xferbench's pool against
 * `xargs -P N` running the same rsync argv, alternating, with the machine's busy CPU. It
 * separates what the harness costs from what running N at once costs the machine.
 */
async function launchPath(): Promise<void> {
  await using topo = await startTopology(backend, { target: { sshd: RAISED } }, ctx, { dirName: 'launch' });
  const rsync = new RsyncTool(tools.rsync!);
  const { ssh } = await targetLane(topo, 'off', 'launch');
  const { plan, dir } = await writeSource(topo, 100, '64KiB');
  const dest = join(topo.host('target').dataRoot, 'dest');
  const jobs = plan.entries.map((entry) => ({ entry, source: { path: join(dir, entry.path) }, dest: { host: 'target', path: join(dest, entry.path) }, ssh }));
  // The same argv as RsyncTool builds, with the file name filled in by xargs.
  const argv = rsync.command({ ...jobs[0]!, source: { path: `${dir}/{}` }, dest: { host: 'target', path: `${dest}/{}` } }).args;
  for (const n of [30, 100]) {
    console.error(`bench: launch path at ${n}, 3 pairs...`);
    const m: Record<'pool' | 'xargs', { wall: number; cpu: number }[]> = { pool: [], xargs: [] };
    for (let round = 0; round < 6; round++) {
      // A B B A A B: neither side always goes first or follows itself.
      const side = (round % 2 === 0) === (Math.floor(round / 2) % 2 === 0) ? 'pool' : 'xargs';
      await topo.host('target').files.prepare(dest, []);
      const [b, s] = [machineBusyMs(), performance.now()];
      if (side === 'pool') {
        const records = await runTransferPool(jobs, n, { tool: rsync, retries: 0, backoffMs: 0, backoffMaxMs: 0, timeoutMs: 300_000, clock: () => performance.now(), launcher }, { cell: 'launch', repeat: round });
        if (records.some((r) => r.status !== 'ok')) throw new Error('launch path benchmark: a transfer failed; limits should be raised');
      } else {
        await execa('xargs', ['-P', String(n), '-I{}', tools.rsync!, ...argv], { input: plan.entries.map((e) => e.path).join('\n'), stdout: 'ignore' });
      }
      m[side].push({ wall: performance.now() - s, cpu: machineBusyMs() - b });
    }
    const med = (side: 'pool' | 'xargs', k: 'wall' | 'cpu') => median(m[side].map((x) => x[k]));
    const ratio = med('pool', 'wall') / med('xargs', 'wall');
    row(
      `launch path: 100 x 64 KiB rsync at ${n}, one sshd, pool vs xargs -P ${n} (3 each, medians)`,
      `wall ${med('pool', 'wall').toFixed(0)} vs ${med('xargs', 'wall').toFixed(0)} ms (ratio ${ratio.toFixed(2)}); machine CPU ${med('pool', 'cpu').toFixed(0)} vs ${med('xargs', 'cpu').toFixed(0)} ms`,
      n <= 30 ? 'ratio <= 1.05' : '',
      n <= 30 ? ratio <= 1.05 : undefined,
    );
  }
}

/**
 * What the connector (ssh/connect-fd.pl: one short process per ssh connection, to learn its
 * client port) costs: the same rsyncs with and without it, alternating A B B A. With MaxStartups
 * raised, wall time and the machine's CPU; at sshd's default 10:30:100, the share dropped.
 */
async function connectorCost(): Promise<void> {
  await using topo = await startTopology(backend, { target: { sshd: RAISED }, strict: { sshd: { MaxStartups: '10:30:100' } } }, ctx, { dirName: 'connector', connector: await findConnector() });
  const rsync = new RsyncTool(tools.rsync!);
  const { plan, dir } = await writeSource(topo, 100, '64KiB');
  for (const [host, n, rounds] of [['target', 30, 6], ['strict', 60, 10]] as const) {
    console.error(`bench: connector cost, ${host} at ${n}, ${rounds / 2} pairs...`);
    const lanes = { with: await laneTo(topo, host, `conn-${host}-on`, { clientPorts: true }), without: await laneTo(topo, host, `conn-${host}-off`, {}) };
    const dest = join(topo.host(host).dataRoot, 'dest');
    const m: Record<'with' | 'without', { wall: number; cpu: number; lost: number }[]> = { with: [], without: [] };
    for (let round = 0; round < rounds; round++) {
      const side = (round % 2 === 0) === (Math.floor(round / 2) % 2 === 0) ? 'with' : 'without';
      await topo.host(host).files.prepare(dest, []);
      const jobs = plan.entries.map((entry) => ({ entry, source: { path: join(dir, entry.path) }, dest: { host, path: join(dest, entry.path) }, ssh: lanes[side].ssh }));
      const [b, t] = [machineBusyMs(), performance.now()];
      const records = await runTransferPool(jobs, n, { tool: rsync, retries: 0, backoffMs: 0, backoffMaxMs: 0, timeoutMs: 300_000, clock: () => performance.now(), launcher }, { cell: 'connector', repeat: round });
      m[side].push({ wall: performance.now() - t, cpu: machineBusyMs() - b, lost: records.filter((r) => r.status !== 'ok').length });
    }
    const med = (side: 'with' | 'without', k: 'wall' | 'cpu' | 'lost') => median(m[side].map((x) => x[k]));
    const range = (side: 'with' | 'without') => `${Math.min(...m[side].map((x) => x.lost))}–${Math.max(...m[side].map((x) => x.lost))}`;
    row(
      host === 'target' ? `connector: 100 x 64 KiB rsync at ${n}, limits raised, with vs without (${rounds / 2} each, medians)` : `connector: 100 x 64 KiB rsync at ${n}, MaxStartups 10:30:100, with vs without (${rounds / 2} each, medians)`,
      `wall ${med('with', 'wall').toFixed(0)} vs ${med('without', 'wall').toFixed(0)} ms (ratio ${(med('with', 'wall') / med('without', 'wall')).toFixed(2)}); machine CPU ${med('with', 'cpu').toFixed(0)} vs ${med('without', 'cpu').toFixed(0)} ms` +
        (host === 'strict' ? `; dropped ${med('with', 'lost')} (${range('with')}) vs ${med('without', 'lost')} (${range('without')}) of 100` : ''),
      '',
      undefined,
    );
  }
}

/** Many transfers at high concurrency: the event loop must stay responsive and memory bounded. */
async function scale(name: string, tool: TransferTool, total: number, concurrency: number): Promise<void> {
  await using topo = await startTopology(backend, { target: { sshd: RAISED } }, ctx, { dirName: `scale-${name}` });
  const { plan, dir } = await writeSource(topo, total, '4KiB');
  const { ssh, mux } = await targetLane(topo, tool.usesSsh ? 'warm' : 'off', `mux-${name}`);
  await using _master = mux;
  await mux.open();
  const destRoot = tool.usesSsh ? topo.host('target').dataRoot : topo.client.dataRoot;
  const dest = join(destRoot, `dest-${name}`);
  await topo.client.files.prepare(dest, []);
  const jobs = plan.entries.map((entry) => ({ entry, source: { path: join(dir, entry.path) }, dest: { ...(tool.usesSsh ? { host: 'target' } : {}), path: join(dest, entry.path) }, ssh }));
  const watch = new LoopWatch();
  let rss = process.memoryUsage().rss;
  const sampler = setInterval(() => (rss = Math.max(rss, process.memoryUsage().rss)), 50);
  watch.start();
  console.error(`bench: scale ${name} ${total} at ${concurrency}...`);
  const start = performance.now();
  const records = await runTransferPool(jobs, concurrency, { tool, retries: 0, backoffMs: 0, backoffMaxMs: 0, timeoutMs: 600_000, clock: () => performance.now(), launcher }, { cell: name, repeat: 1 });
  const wall = performance.now() - start;
  const loop = watch.stop();
  clearInterval(sampler);
  const ok = records.filter((r) => r.status === 'ok').length;
  const failures = records.filter((r) => r.status !== 'ok').map((r) => `${r.failure_class}: ${r.attempts.at(-1)?.stderr_tail.trim().split('\n').at(-1)}`);
  if (failures.length > 0) console.error(`bench: ${failures.length} failed, e.g. ${failures.slice(0, 3).join(' | ')}`);
  const rssMb = rss / 2 ** 20;
  row(
    `scale: ${total} ${name} transfers at concurrency ${concurrency}`,
    `${ok}/${total} ok in ${(wall / 1000).toFixed(1)} s (wall per transfer ${againstCp(yard, wall / total)}); loop blocked at most ${loop.blockedMs.toFixed(0)} ms ` +
      `(raw loop delay ${loop.delayMs.toFixed(0)} ms, of which run-queue wait up to ${loop.queuedMs.toFixed(0)} ms); peak RSS ${rssMb.toFixed(0)} MB`,
    'blocked <= 50 ms, RSS < 300 MB',
    ok === total && loop.blockedMs <= 50 && rssMb < 300,
  );
}

/** Container backend: image from nothing, topology start, and throughput against the local backend. */
async function containers(): Promise<void> {
  const { ContainerBackend } = await import('../src/hosts/container/container-backend.js');
  const { containerEngine, stopPrivateEngine } = await import('../src/hosts/container/container-engine.js');
  const { ensureSshdImage } = await import('../src/hosts/container/sshd-image.js');
  const engine = await containerEngine();
  try {
    if (wanted('container-bootstrap') || (only.length === 0 && process.getuid?.() === 0)) {
      console.error('bench: building the sshd image from nothing (debootstrap + import + build)...');
      const img = await ensureSshdImage(engine, { base: 'bootstrap', force: true });
      const s = img.built!.ms / 1000;
      row('container image bootstrap from nothing (debootstrap, import, build)', `${s.toFixed(1)} s (${againstNode(yard, img.built!.ms)}; ${engine.version})`, '< 90 s', s < 90);
    }
    const containerBackend = new ContainerBackend();
    await containerBackend.sshdVersion(); // image present before timing starts
    const times: number[] = [];
    for (let i = 0; i < 10; i++) {
      await using topo = await startTopology(containerBackend, { target: { sshd: {} }, head: { sshd: {} }, worker: { sshd: {} } }, ctx, { dirName: `cstart-${i}` });
      times.push(topo.startMs);
    }
    row('container topology start, 3 containers (10 runs)', `median ${median(times).toFixed(0)} ms (${againstNode(yard, median(times))}), p95 ${percentile(times, 95)!.toFixed(0)} ms`, 'median < 3000 ms', median(times) < 3000);
    await containerLinkRows(containerBackend, ctx, row);

    // One 256 MiB file by rsync over ssh to each backend's target, alternating, 7 rounds each:
    // single transfers here vary by ±15 %, so fewer rounds cannot judge a 10 % margin.
    const rsync = new RsyncTool(tools.rsync!);
    await using local = await startTopology(backend, { target: { sshd: {} } }, ctx, { dirName: 'tput-local' });
    await using cont = await startTopology(containerBackend, { target: { sshd: {} } }, ctx, { dirName: 'tput-container' });
    const { plan, dir } = await writeSource(local, 1, '256MiB');
    const rates: Record<string, number[]> = { local: [], container: [] };
    console.error('bench: 256 MiB throughput, local vs container...');
    for (let round = 0; round < 14; round++) {
      const [name, topo] = round % 2 === 0 ? (['local', local] as const) : (['container', cont] as const);
      const dest = join(topo.host('target').dataRoot, 'dest');
      await topo.host('target').files.prepare(dest, []);
      const { ssh } = await targetLane(topo, 'off', `tput-${name}`);
      const job = { entry: plan.entries[0]!, source: { path: join(dir, plan.entries[0]!.path) }, dest: { host: 'target', path: join(dest, plan.entries[0]!.path) }, ssh };
      const [r] = await runTransferPool([job], 1, { tool: rsync, retries: 0, backoffMs: 0, backoffMaxMs: 0, timeoutMs: 600_000, clock: () => performance.now(), launcher }, { cell: name, repeat: round });
      if (r!.status !== 'ok') throw new Error(`throughput benchmark: the ${name} transfer failed: ${r!.attempts.at(-1)?.stderr_tail}`);
      rates[name]!.push(r!.bytes / 1e6 / ((r!.end_ms - r!.start_ms) / 1000));
    }
    console.error(`bench: MB/s local ${rates.local!.map((r) => r.toFixed(0)).join(" ")}; container ${rates.container!.map((r) => r.toFixed(0)).join(" ")}`);
    const ratio = median(rates.container!) / median(rates.local!);
    row('throughput, one 256 MiB file by rsync (7 rounds each, medians)', `container ${median(rates.container!).toFixed(0)} MB/s vs local ${median(rates.local!).toFixed(0)} MB/s: ratio ${ratio.toFixed(2)}`, 'ratio >= 0.90', ratio >= 0.9);
  } finally {
    await stopPrivateEngine();
  }
}

/** One 64 MiB file by OpenSSH's sftp and by the in-process ssh2 client, alternating, on one local sshd. */
async function ssh2Throughput(): Promise<void> {
  await using topo = await startTopology(backend, { target: { sshd: RAISED } }, ctx, { dirName: 'ssh2' });
  const { plan, dir } = await writeSource(topo, 1, '64MiB');
  const host = topo.host('target');
  const { ssh, direct } = await targetLane(topo, 'off', 'ssh2', true);
  const entry = plan.entries[0]!;
  const sides: Record<'sftp' | 'ssh2-sftp', TransferTool> = { sftp: new SftpTool(tools.sftp!), 'ssh2-sftp': new Ssh2SftpTool(1, 1) };
  const rates: Record<string, number[]> = { sftp: [], 'ssh2-sftp': [] };
  console.error('bench: 64 MiB, sftp vs ssh2-sftp, 5 rounds each...');
  for (let round = 0; round < 10; round++) {
    const name = round % 2 === 0 ? 'sftp' : 'ssh2-sftp';
    const tool = sides[name];
    const dest = join(host.dataRoot, 'dest');
    await host.files.prepare(dest, []);
    const job = {
      entry, source: { path: join(dir, entry.path) }, dest: { host: 'target', path: join(dest, entry.path) }, ssh, direct: direct!,
    };
    const [r] = await runTransferPool([job], 1, { tool, retries: 0, backoffMs: 0, backoffMaxMs: 0, timeoutMs: 600_000, clock: () => performance.now(), launcher }, { cell: name, repeat: round });
    await tool.close?.();
    if (r!.status !== 'ok') throw new Error(`ssh2 benchmark: the ${name} transfer failed: ${r!.attempts.at(-1)?.stderr_tail}`);
    rates[name]!.push(r!.bytes / 1e6 / ((r!.end_ms - r!.start_ms) / 1000));
  }
  row('one 64 MiB file, OpenSSH sftp vs the ssh2 library (ssh2-sftp), 5 alternating rounds each, medians', `sftp ${median(rates.sftp!).toFixed(0)} MB/s, ssh2-sftp ${median(rates['ssh2-sftp']!).toFixed(0)} MB/s (${(median(rates['ssh2-sftp']!) / median(rates.sftp!)).toFixed(2)})`, '', undefined);
}

async function micro(): Promise<void> {
  const bench = new Bench({ time: 300 });
  const seedScenario = readFileSync(join(import.meta.dirname, '..', 'scenarios', 'maxstartups.yaml'), 'utf8');
  const millionCells = readFileSync(join(import.meta.dirname, '..', 'test', 'fixtures', 'hostile', 'limit-million-cells.yaml'), 'utf8');
  const stderr = 'kex_exchange_identification: Connection closed by remote host\r\nConnection closed by 127.0.0.2 port 2222\r\nrsync: connection unexpectedly closed (0 bytes received so far) [sender]\n';
  const version = tools.sshdVersion ?? tools.sshVersion;
  bench
    .add('classify a MaxStartups failure', () => void classify({ stderr, exitCode: 255, clientVersion: version }))
    .add('parse an sshd drop line', () => void parseSshdLine('drop connection #11 from [127.0.0.1]:57498 on [127.0.0.2]:2222 past MaxStartups'))
    .add('render an sshd_config', () => void renderSshdConfig({ hostName: 't', listen: { address: '127.0.0.2', port: 2222 }, hostKeyPath: '/k', authorizedKeysPath: '/a', user: 'u', sessionHome: '/h', version, options: { MaxStartups: '10:30:100' } }))
    .add('generate + hash a 1 MiB dataset file', () => void sha256Of({ path: 'f', size: 1 << 20, seed: 1 }))
    .add('load a seed scenario (YAML, schema, 2 cells planned)', () => void parseScenario(seedScenario, 'maxstartups.yaml'))
    .add('refuse a million-cell matrix (limits before expansion)', () => {
      try {
        parseScenario(millionCells, 'limit-million-cells.yaml');
      } catch {
        return;
      }
      throw new Error('the million-cell scenario was accepted');
    });
  await bench.run();
  for (const task of bench.tasks) {
    const r = task.result as { throughput?: { mean: number }; hz?: number } | undefined;
    const hz = r?.throughput?.mean ?? r?.hz ?? 0;
    row(`micro: ${task.name}`, `${hz >= 1000 ? `${(hz / 1000).toFixed(0)}k` : hz.toFixed(0)} ops/s (one: ${againstCp(yard, 1000 / hz)})`, '', undefined);
  }
}

if (wanted('start')) await topologyStart();
if (wanted('launch')) await launchPath();
if (wanted('connector')) await connectorCost();
if (wanted('e2e')) {
  const cases: (Case & Targets)[] = [
    { files: 10, size: 1024, concurrency: 10, tool: 'rsync', rounds: 7, ratio: 1.3 },
    { files: 100, size: 65536, concurrency: 10, tool: 'rsync', rounds: 5, ratio: 1.05 },
    { files: 100, size: 65536, concurrency: 100, tool: 'rsync', rounds: 5, ratio: 1.05, peak: true },
    { files: 500, size: 1024, concurrency: 500, tool: 'rsync', rounds: 1, peak: true },
  ];
  await endToEnd(join(state.path, 'e2e'), tools, cases, yard, row);
}
if (wanted('scale')) {
  await scale('cp', new CpTool(), 2000, 500);
  // Over ssh, 500 at once saturates 2 cores many times over and the loop delay then measures
  // CPU starvation, not the harness; 50 at once over one warm master is a load a site would run.
  await scale('rsync-over-warm-mux', new RsyncTool(tools.rsync!), 500, 50);
}
if (wanted('micro')) await micro();
if (wanted('finalize')) await finalizeBench(state.path, [1024, 4096, 16_384], yard, row);
if (wanted('ssh2')) await ssh2Throughput();
if (wanted('links')) await linksBench(state.path, ctx, tools, row);
if (wanted('cost')) await costBench(state.path, tools, row);
if (['containers', 'container-bootstrap'].some(wanted)) await containers();

const widths = (['benchmark', 'result', 'target', 'verdict'] as const).map((k) => Math.max(k.length, ...rows.map((r) => r[k].length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
console.log(`\nxferbench benchmarks (${tools.sshVersion.text}, rsync ${tools.rsyncVersion}, node ${process.version})\n`);
console.log(line(['benchmark', 'result', 'target', 'verdict']));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const r of rows) console.log(line([r.benchmark, r.result, r.target, r.verdict]));
process.exitCode = rows.some((r) => r.verdict === 'MISSED') ? 1 : 0;
