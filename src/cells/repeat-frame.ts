import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { QueueControl } from '../faults/fault-kind.js';
import { scheduleFaults, type FaultSchedule } from '../faults/fault-schedule.js';
import type { FaultSpec } from '../faults/registry.js';
import { innerAlias } from '../hosts/topology.js';
import { type TransferRecord } from '../records/transfer-record.js';
import { type FaultRecord } from '../records/fault-record.js';
import { statusCounts, type CellRecord } from '../records/cell-record.js';
import { muxSummary, writeLanes, type Lane } from '../transfers/lane.js';
import type { MuxStatus } from '../transfers/mux-session.js';
import type { CellContext } from './cell-kind.js';
import { openSshdWindow } from './sshd-window.js';
import { routesOf } from '../plan/plan.js';
import { StartPacer } from '../transfers/start-pacer.js';
import { LoadWatch } from './load-watch.js';
import { listenOverflows } from '../process/accept-queue.js';
import { EXTERNAL_CAPS } from '../spec/external-host.js';

type SshdSeen = Pick<CellRecord, 'sshd' | 'sshd_events' | 'sshd_unobserved'>;

/**
 * What every kind of cell does around its own work in one repeat, in this order: a control
 * folder; its lanes' ssh configs and masters; at the start, the clock, sshd's log window and the
 * faults; at the end, the faults undone, the masters closed and sshd's log read; and the common
 * part of the cell record. Disposed on any exit: faults undone, masters closed.
 */
export class RepeatFrame implements AsyncDisposable {
  private lanes: Lane[] = [];
  private faults?: FaultSchedule;
  private window?: ReturnType<typeof openSshdWindow>;
  private mux?: MuxStatus;
  private load?: LoadWatch;
  private overflowsBefore?: number;
  /** When the work began (the run clock), set by begin(). */
  start = 0;

  /** Paces new transfers when the cell's routes reach an external host, unless the user administers it. */
  readonly pacer?: StartPacer;

  private constructor(
    private readonly ctx: CellContext,
    readonly repeat: number,
    /** The repeat's folder for lane configs, job lists and masters' sockets (short: sun_path). */
    readonly controlDir: string,
  ) {
    const { topology } = ctx;
    const external = routesOf(ctx.cell.scenario).some((r) => [r.end, ...r.via].some((h) => topology.replicas(h).some((n) => topology.hosts.get(n)?.external)));
    // The scenario's start rate, or the cap toward a site's server: whichever holds starts back more.
    const rate = ctx.cell.scenario.transfer?.start_rate;
    const cap = external && ctx.paceExternal && (rate === undefined || rate > EXTERNAL_CAPS.startsPerSecond);
    if (cap) this.pacer = new StartPacer(EXTERNAL_CAPS.startsPerSecond, rate === undefined ? EXTERNAL_CAPS.burst : 1, 'external');
    else if (rate !== undefined) this.pacer = new StartPacer(rate, 1, 'scenario');
  }

  /** The frame of one repeat, with its control folder below the control base (which client containers share). */
  static async open(ctx: CellContext, repeat: number): Promise<RepeatFrame> {
    const dir = join(ctx.controlBase, `c${ctx.cell.index}r${repeat}`);
    await mkdir(dir, { recursive: true, mode: 0o700 });
    return new RepeatFrame(ctx, repeat, dir);
  }

  /** Writes the lanes' ssh configs and opens their masters (as each lane's mux mode says). */
  async openLanes(lanes: Iterable<Lane>): Promise<void> {
    this.lanes = [...lanes];
    await writeLanes(this.lanes);
    this.mux = muxSummary(await Promise.all(this.lanes.map((l) => l.mux.open(this.ctx.signal))));
  }

  /** The work starts: the repeat's clock and sshd's log window. */
  begin(): void {
    this.start = this.ctx.clock();
    this.window = openSshdWindow(this.ctx.topology, this.start);
    this.overflowsBefore = listenOverflows();
    this.load = LoadWatch.start(this.ctx.clock, this.ctx.executor.launchesHere ? this.ctx.launcher.pid : undefined);
  }

  /** The repeat's faults, timed from now; `total` is what `at: "N%"` counts (transfers or steps). */
  startFaults(faults: readonly FaultSpec[], options: { total: number; queue?: QueueControl; write?: (record: FaultRecord) => void }): FaultSchedule {
    const { topology, cell, clock } = this.ctx;
    this.faults = scheduleFaults(faults, {
      cell: cell.id, repeat: this.repeat, total: options.total, clock, write: options.write ?? ((r) => this.ctx.write(r)),
      hosts: (n) => topology.replicas(n).map((r) => topology.host(r)),
      // A client fault on a host acts on the masters of the lanes to its replicas (or to any host).
      masters: (n) => this.lanes.filter((l) => n === undefined || topology.replicas(n).some((r) => l.remote === r || l.remote === innerAlias(r))).map((l) => l.mux),
      ...(options.queue ? { queue: options.queue } : {}),
    });
    return this.faults;
  }

  /** The work is done: faults undone (a fault's own error is rethrown), then `before` (what must end before the masters), then the masters closed. */
  async stop(before?: () => Promise<void>): Promise<void> {
    await this.faults?.stop();
    await before?.();
    await this.closeMasters();
  }

  /** What sshd logged on every host since begin() (waits for the logs to settle). */
  sshdSeen(): Promise<SshdSeen> {
    if (!this.window) throw new Error('internal: the repeat never began');
    return this.window.close();
  }

  /** The cell record every kind writes, its fields in one order; a kind adds its own after them. */
  cellRecord(r: { concurrency: number; start_ms?: number; end_ms: number; bytes_ok: number; transfers: readonly TransferRecord[]; silent_drops: number; sshd: SshdSeen }): CellRecord {
    const { cell } = this.ctx;
    // The link each host was reached over, as the relay carried it.
    const load = this.load?.stop();
    const overflows = listenOverflows();
    const links = [...this.ctx.topology.hosts].flatMap(([name, h]) => (h.link ? [[name, h.link.link] as const] : []));
    return {
      type: 'cell', cell: cell.id, cell_index: cell.index, values: cell.values, repeat: this.repeat,
      concurrency: r.concurrency,
      start_ms: r.start_ms ?? this.start, end_ms: r.end_ms,
      bytes_ok: r.bytes_ok,
      ...statusCounts(r.transfers),
      silent_drops: r.silent_drops,
      ...r.sshd,
      mux: this.mux!,
      ...(this.pacer ? { paced: { per_s: this.pacer.perSecond, burst: this.pacer.burst, by: this.pacer.by, waits: this.pacer.waits, waited_ms: Math.round(this.pacer.waitedMs) } } : {}),
      ...(links.length > 0 ? { links: Object.fromEntries(links) } : {}),
      ...(load ? { load } : {}),
      ...(overflows !== undefined && this.overflowsBefore !== undefined ? { listen_overflows: overflows - this.overflowsBefore } : {}),
    };
  }

  private closeMasters(): Promise<void> {
    return Promise.all(this.lanes.map((l) => l.mux.close())).then(() => undefined);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.load?.stop();
    try {
      await this.faults?.[Symbol.asyncDispose]();
    } finally {
      await this.closeMasters();
    }
  }
}
