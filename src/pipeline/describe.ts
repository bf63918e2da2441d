import { stageStrategy, type PipelineSpec, type StageSpec } from './pipeline-spec.js';

const route = (p: PipelineSpec, s: StageSpec) => `${s.via.length ? ` via ${s.via.join(',')}` : ''}, ${stageStrategy(p, s)}, commit ${s.commit}${s.finalize === 'defer' ? ' (finalize deferred)' : ''}, mux ${s.mux}`;

/** One line for `validate`: what each rank does, and how its steps run (the executor's note). */
export function describePipeline(p: PipelineSpec, files: number, stepsNote?: string): string {
  const steps = [
    ...(p.stage_in ? [`stage_in from ${p.stage_in.from}${route(p, p.stage_in)}`] : []),
    ...(p.compute ? [`compute ${p.compute.run}`] : []),
    ...(p.stage_out ? [`stage_out to ${p.stage_out.to}${route(p, p.stage_out)}`] : []),
  ];
  const jobs = stepsNote ? `; ${stepsNote}` : '';
  return `pipeline of ${p.ranks} ranks over ${files} files: ${steps.join(' -> ')}${p.on_failure === 'cleanup' ? '; cleanup after a failed step' : ''}${jobs}`;
}
