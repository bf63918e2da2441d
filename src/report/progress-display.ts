import { showText } from '../util/show-text.js';
import cliProgress from 'cli-progress';
import type { RunEvent } from '../cells/run-event.js';
import { sshdBlind } from '../records/cell-record.js';

export type ProgressMode = 'bar' | 'lines' | 'quiet';

/** A bar on a terminal, periodic plain lines in CI logs (stdout not a TTY), nothing with --quiet. */
export function progressMode(opts: { quiet?: boolean; isTTY?: boolean }): ProgressMode {
  return opts.quiet ? 'quiet' : opts.isTTY ? 'bar' : 'lines';
}

const duration = (s: number) => (!Number.isFinite(s) ? '?' : s >= 60 ? `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s` : `${Math.round(s)}s`);

export interface ProgressDisplay {
  onEvent(event: RunEvent): void;
  stop(): void;
}

/** The total comes from the run's 'planned' event; a suite reuses one display, which restarts per scenario. */
export function createProgress(mode: ProgressMode, out: NodeJS.WritableStream = process.stderr, intervalMs = 10_000): ProgressDisplay {
  // Notices and cell names come from input: shown with control characters escaped.
  const write = (text: string) => out.write(showText(text, true));
  let total = 0;
  let done = 0;
  let failed = 0;
  let bytes = 0;
  let cell = '';
  let started = performance.now();
  const rate = () => {
    const s = (performance.now() - started) / 1000;
    return { s, mbps: bytes / 1e6 / Math.max(s, 1e-3), eta: done > 0 ? (s / done) * (total - done) : Infinity };
  };
  const line = () => {
    const r = rate();
    return `progress: ${done}/${total} transfers (${((100 * done) / Math.max(total, 1)).toFixed(0)}%), ${failed} failed, cell ${cell}, ${r.mbps.toFixed(1)} MB/s, elapsed ${duration(r.s)}, ETA ${duration(r.eta)}`;
  };
  /** Both displays keep the same tallies. */
  const count = (e: RunEvent) => {
    if (e.type === 'planned') {
      total = e.plan.totalTransfers;
      done = failed = bytes = 0;
      started = performance.now();
    }
    if (e.type === 'cell_start') cell = showText(`${e.cell.id} #${e.repeat}`);
    if (e.type === 'notice') cell = showText(e.message.slice(0, 60));
    if (e.type !== 'transfer') return;
    done++;
    if (e.record.status === 'failed') failed++;
    else if (e.record.status !== 'canceled') bytes += e.record.bytes;
  };
  if (mode === 'quiet') return { onEvent: () => undefined, stop: () => undefined };

  if (mode === 'lines') {
    const timer = setInterval(() => write(`${line()}\n`), intervalMs);
    timer.unref();
    return {
      onEvent(e) {
        if (e.type === 'topology_started') write(`hosts up: ${e.hosts.join(', ')} (${e.ms.toFixed(0)} ms)\n`);
        if (e.type === 'notice') write(`${e.message}\n`);
        count(e);
        if (e.type === 'cell_end') {
          const r = e.record;
          const drops = sshdBlind(r) ? 'not observed' : Object.values(r.sshd).reduce((n, h) => n + h.maxstartups_drops, 0);
          write(`cell ${r.cell} #${r.repeat}: ${r.ok}/${r.files} ok, ${r.failed} failed, ${r.silent_drops} silent drops, ${((r.end_ms - r.start_ms) / 1000).toFixed(2)} s, sshd drops ${drops}\n`);
        }
      },
      stop: () => clearInterval(timer),
    };
  }

  const bar = new cliProgress.SingleBar(
    { format: '{cell} |{bar}| {value}/{total} transfers | {failed} failed | {mbps} MB/s | ETA {eta_formatted}', hideCursor: true, stream: out, etaBuffer: 200 },
    cliProgress.Presets.shades_classic,
  );
  bar.start(0, 0, { cell: 'starting hosts', failed: 0, mbps: '0.0' });
  return {
    onEvent(e) {
      count(e);
      if (e.type === 'planned') bar.setTotal(total);
      bar.update(done, { cell, failed, mbps: rate().mbps.toFixed(1) });
    },
    stop: () => bar.stop(),
  };
}
