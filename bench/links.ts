// Link rows of `npm run bench` (`links`): how faithfully the relay gives a link its round trip and
// rate, and what it costs when it adds nothing (rtt 0), each beside the same measure without it.
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Client, SFTPWrapper } from 'ssh2';
import type { OpenSshTools } from '../src/ssh/openssh-tools.js';
import { LocalBackend } from '../src/hosts/local/local-backend.js';
import type { HostBackend, HostStartContext, StartedHost } from '../src/hosts/host.js';
import { startTopology } from '../src/hosts/topology.js';
import { ssh2Connect, ssh2Tunnel } from '../src/ssh/ssh2-connect.js';
import { percentile } from '../src/report/statistics.js';
import { CLI, timed, type AddRow } from './end-to-end.js';

const RAISED = { MaxStartups: '2000', MaxSessions: '2000' };
const median = (xs: number[]) => percentile(xs, 50)!;
/** Pairs of the cost row: single runs differ by ±10 % here, more than what is measured. */
const PAIRS = 9;

/**
 * `n` logged-in ssh2 connections to `host`, each with an SFTP session: from this machine, or with
 * `via` (a logged-in jump host) to its inner endpoint over a channel, as ProxyJump goes.
 */
async function sessions(host: StartedHost, keyPath: string, n: number, via?: Client): Promise<{ client: Client; sftp: SFTPWrapper }[]> {
  const key = await readFile(keyPath);
  const at = via ? host.innerEndpoint! : host.endpoint;
  return Promise.all(
    Array.from({ length: n }, async () => {
      const through = via ? await ssh2Tunnel(via, at.address, at.port) : undefined;
      const { client, ready } = await ssh2Connect({ address: at.address, port: at.port, user: host.user, privateKeyPath: keyPath, hostKeys: host.hostKeys }, key, 120_000, through);
      await ready;
      const sftp = await new Promise<SFTPWrapper>((resolve, reject) => client.sftp((err, s) => (err ? reject(err) : resolve(s))));
      return { client, sftp };
    }),
  );
}

/** Round trips of one SFTP request, every connection asking 10 times in turn, all at once. */
async function roundTrips(list: { sftp: SFTPWrapper }[]): Promise<number[]> {
  const all = await Promise.all(
    list.map(async ({ sftp }) => {
      const out: number[] = [];
      for (let i = 0; i < 10; i++) {
        const t = performance.now();
        await new Promise<void>((resolve, reject) => sftp.realpath('.', (err) => (err ? reject(err) : resolve())));
        out.push(performance.now() - t);
      }
      return out.slice(1); // the first may wait for the session's own start
    }),
  );
  return all.flat();
}

/**
 * Round trip at 1 and 100 connections for 1, 20 and 100 ms links, beside a host without a link.
 * With 100 connections asking at once, each reply also waits its turn in this process and in sshd
 * (~10 ms here without any link), and while one waits for the link others are served, so the two
 * do not add up: the link's round trip is read from the fastest twentieth (p5) of replies, which
 * may exceed the configured one by the tolerance (±10 % or ±1 ms) and the same p5 without a link
 * (what measuring itself costs), and never fall short of it.
 */
async function roundTripRows(ctx: HostStartContext, tools: OpenSshTools, addRow: AddRow): Promise<void> {
  for (const rtt of [1, 20, 100]) {
    await using topo = await startTopology(new LocalBackend(tools), { far: { sshd: RAISED, link: { rtt, jitter: 0 } }, near: { sshd: RAISED } }, ctx, { dirName: `link-rtt-${rtt}` });
    for (const n of [1, 100]) {
      const far = await sessions(topo.host('far'), ctx.clientKey.privatePath, n);
      const near = await sessions(topo.host('near'), ctx.clientKey.privatePath, n);
      const [withLink, without] = [await roundTrips(far), await roundTrips(near)];
      for (const s of [...far, ...near]) s.client.end();
      roundTripRow(`link round trip ${rtt} ms, ${n} connection${n > 1 ? 's' : ''} at once (SFTP request and reply; p5, median)`, rtt, withLink, without, addRow);
    }
  }
}

/** A row judging round trips through a link of `rtt` ms against the same measure without it. */
function roundTripRow(name: string, rtt: number, withLink: number[], without: number[], addRow: AddRow): void {
  const at = (xs: number[], p: number) => percentile(xs, p)!;
  const excess = at(withLink, 5) - rtt;
  const floor = at(without, 5);
  const ok = excess >= -Math.max(rtt * 0.1, 1) && excess <= Math.max(rtt * 0.1, 1) + floor;
  addRow(
    name,
    `with the link ${at(withLink, 5).toFixed(2)}, ${median(withLink).toFixed(2)} ms; without ${at(without, 5).toFixed(2)}, ${median(without).toFixed(2)} ms: p5 ${excess >= 0 ? '+' : ''}${excess.toFixed(2)} ms from the link's`,
    `p5 ${rtt} ms ± max(10 %, 1 ms), plus the p5 without a link`,
    ok,
  );
}

/**
 * A link on a container host: crossed from this machine (the published port) and from the
 * containers' network (a head's sshd opening the channel, as ProxyJump does), one connection each,
 * beside a host without a link on the same path.
 */
export async function containerLinkRows(backend: HostBackend, ctx: HostStartContext, addRow: AddRow): Promise<void> {
  for (const rtt of [1, 20]) {
    await using topo = await startTopology(backend, { head: { sshd: RAISED }, far: { sshd: RAISED, link: { rtt, jitter: 0 } }, near: { sshd: RAISED } }, ctx, { dirName: `container-link-${rtt}` });
    const key = ctx.clientKey.privatePath;
    const [head] = await sessions(topo.host('head'), key, 1);
    for (const path of ['this machine', 'a head container'] as const) {
      const via = path === 'this machine' ? undefined : head!.client;
      const far = await sessions(topo.host('far'), key, 1, via);
      const near = await sessions(topo.host('near'), key, 1, via);
      const [withLink, without] = [await roundTrips(far), await roundTrips(near)];
      for (const s of [...far, ...near]) s.client.end();
      roundTripRow(`container link round trip ${rtt} ms from ${path}, 1 connection (SFTP request and reply; p5, median)`, rtt, withLink, without, addRow);
    }
    head!.client.end();
  }
}

/** One 64 MiB rsync through a 100 Mbit/s link with no delay: MB/s against the rate. */
async function rateRow(root: string, addRow: AddRow): Promise<void> {
  const scenario = join(root, 'link-rate.yaml');
  await writeFile(scenario, stringify({ name: 'bench-link-rate', hosts: { target: { sshd: RAISED, link: { rtt: '0ms', rate: '100mbit' } } }, dataset: { files: 1, size: '64MiB', seed: 1 }, transfer: { to: 'target', concurrency: 1, rsync_args: ['--whole-file'] }, repeat: 3 }));
  const out = join(root, 'link-rate-out');
  await timed([process.execPath, CLI, 'run', scenario, '--out', out, '-q'], 'xferbench-launc');
  const summary = JSON.parse(await readFile(join(out, 'summary.json'), 'utf8')) as { cells: { repeats: { throughput_mbps: number }[] }[] };
  const mbps = summary.cells[0]!.repeats.map((r) => r.throughput_mbps);
  await rm(out, { recursive: true, force: true });
  const ratio = median(mbps) / (100e6 / 8 / 1e6);
  addRow('link rate 100 Mbit/s: one 64 MiB rsync, 3 repeats (login included)', `${mbps.map((m) => m.toFixed(2)).join(', ')} MB/s: ${ratio.toFixed(3)} × 12.5 MB/s`, 'within ±10 % of the rate', Math.abs(ratio - 1) <= 0.1);
}

/** The relay's own cost: 100 × 64 KiB rsync at 100 through an rtt 0 link vs none, alternating. */
async function costRow(root: string, addRow: AddRow): Promise<void> {
  const files = async (link: boolean) => {
    const file = join(root, `link-cost-${link}.yaml`);
    await writeFile(file, stringify({ name: 'bench-link-cost', hosts: { target: { sshd: RAISED, ...(link ? { link: { rtt: '0ms' } } : {}) } }, dataset: { files: 100, size: '64KiB', seed: 1 }, transfer: { to: 'target', concurrency: 100 }, repeat: 1 }));
    return file;
  };
  const [withLink, without] = [await files(true), await files(false)];
  const pairs: { wall: number; cpu: number }[] = [];
  for (let round = 0; round < PAIRS; round++) {
    const run = (file: string) => timed([process.execPath, CLI, 'run', file, '--out', join(root, `link-cost-out-${round}-${file === withLink}`), '-q'], 'xferbench-launc');
    const [a, b] = round % 2 === 0 ? [await run(withLink), await run(without)] : await run(without).then(async (b1) => [await run(withLink), b1] as const);
    pairs.push({ wall: a.wallMs / b.wallMs, cpu: a.cpuMs / b.cpuMs });
  }
  const wall = median(pairs.map((p) => p.wall));
  const cpu = median(pairs.map((p) => p.cpu));
  addRow(`link relay cost: 100 × 64 KiB rsync at 100, rtt 0 link vs none (${PAIRS} pairs, median ratios)`, `wall ${wall.toFixed(3)}, CPU ${cpu.toFixed(3)} (${pairs.map((p) => p.wall.toFixed(2)).join(' ')})`, 'both ≤ 1.05', wall <= 1.05 && cpu <= 1.05);
}

export async function linksBench(root: string, ctx: HostStartContext, tools: OpenSshTools, addRow: AddRow): Promise<void> {
  console.error('bench: links (round trip, rate, relay cost)...');
  await roundTripRows(ctx, tools, addRow);
  await rateRow(root, addRow);
  await costRow(root, addRow);
}
