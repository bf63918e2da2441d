import type { ChartDataset } from 'chart.js';
import type { ResultRecord } from '../records/result-record.js';
import type { StepName, StepRecord } from '../records/pipeline-records.js';
import type { ChartSpec } from './chart-spec.js';

const STEP_COLORS: Record<StepName, string> = { stage_in: '#1f77b4', compute: '#2ca02c', stage_out: '#ff7f0e', cleanup: '#7f7f7f' };
const FAILED = '#d62728';
/** More rows than this would be unreadable; the chart says how many it leaves out. */
const MAX_RANKS = 64;

const ORDER: readonly StepName[] = ['stage_in', 'compute', 'stage_out', 'cleanup'];

/** `rank 3: 5 > 12 > 24 > (28)`: its steps' batch jobs in dependency order, a cancelled one in brackets. */
function rankLabel(rank: number, steps: readonly StepRecord[]): string {
  const jobs = [...steps].filter((s) => s.job_id).sort((a, b) => ORDER.indexOf(a.step) - ORDER.indexOf(b.step));
  if (jobs.length === 0) return `rank ${rank}`;
  return `rank ${rank}: ${jobs.map((s) => (s.status === 'skipped' ? `(${s.job_id})` : s.job_id)).join(' > ')}`;
}

/**
 * Per rank, a bar per step on the run clock (stage-in, compute, stage-out, cleanup; a failed
 * step in red): where a pipeline spends its time and where ranks wait. One chart per cell, for
 * its first repeat. With executor: slurm each rank's label lists its jobs.
 */
export function ganttCharts(records: readonly ResultRecord[]): ChartSpec[] {
  const all = records.filter((r): r is StepRecord => r.type === 'step');
  const steps = all.filter((r) => r.status !== 'skipped');
  const cells = [...new Set(steps.map((s) => s.cell))];
  return cells.map((cell, ci) => {
    const mine = steps.filter((s) => s.cell === cell && s.repeat === Math.min(...steps.filter((x) => x.cell === cell).map((x) => x.repeat)));
    const ranks = [...new Set(mine.map((s) => s.rank))].sort((a, b) => a - b);
    const shown = ranks.slice(0, MAX_RANKS);
    const repeat = mine[0]?.repeat;
    const labels = shown.map((rank) => rankLabel(rank, all.filter((s) => s.cell === cell && s.repeat === repeat && s.rank === rank)));
    const jobs = labels.some((l) => l.includes(':'));
    const bars = (name: string, color: string, pick: (s: StepRecord) => boolean): ChartDataset<'bar', ([number, number] | null)[]> => ({
      label: name,
      data: shown.map((rank) => {
        const s = mine.find((x) => x.rank === rank && pick(x));
        return s ? [s.start_ms / 1000, Math.max(s.end_ms, s.start_ms + 1) / 1000] : null;
      }),
      backgroundColor: color,
      grouped: false,
      barPercentage: 0.8,
    });
    const datasets = [
      ...(['stage_in', 'compute', 'stage_out', 'cleanup'] as const).map((step) => bars(step, STEP_COLORS[step], (s) => s.step === step && s.status === 'ok')),
      bars('failed step', FAILED, (s) => s.status === 'failed'),
    ].filter((d) => d.data.some((v) => v !== null));
    const more = ranks.length > shown.length ? ` (first ${shown.length} of ${ranks.length} ranks)` : '';
    return {
      name: `gantt-${ci}`,
      title: `Pipeline steps per rank: ${cell}`,
      config: {
        type: 'bar',
        data: { labels, datasets },
        options: {
          indexAxis: 'y',
          responsive: false,
          animation: false,
          plugins: { title: { display: true, text: [`Steps per rank, ${cell}${more}: stage-in, compute, stage-out, cleanup; failures in red`, ...(jobs ? ['Slurm job ids per rank in dependency order (afterok; cleanup afternotok); (id): cancelled, its dependency never met'] : [])], font: { size: 16 } }, legend: { position: 'bottom' } },
          scales: { x: { type: 'linear', title: { display: true, text: 'seconds since run start' } }, y: { title: { display: true, text: 'rank' } } },
        },
      },
    } as ChartSpec;
  });
}
