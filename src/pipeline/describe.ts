import { stageStrategy, type PipelineSpec, type StageSpec } from './pipeline-spec.js';

const route = (p: PipelineSpec, s: StageSpec) => `${s.via.length ? ` via ${s.via.join(',')}` : ''}, ${stageStrategy(p, s)}, commit ${s.commit}${s.finalize === 'defer' ? ' (finalize deferred)' : ''}, mux ${s.mux}`;

/** One line for `validate`: what each rank does. */
export function describePipeline(p: PipelineSpec, files: number, executor: 'local' | 'slurm' = 'local'): string {
  const steps = [
    ...(p.stage_in ? [`stage_in from ${p.stage_in.from}${route(p, p.stage_in)}`] : []),
    ...(p.compute ? [`compute ${p.compute.run}`] : []),
    ...(p.stage_out ? [`stage_out to ${p.stage_out.to}${route(p, p.stage_out)}`] : []),
  ];
  const jobs = executor === 'slurm' ? '; each step a Slurm batch job (afterok; cleanup afternotok)' : '';
  return `pipeline of ${p.ranks} ranks over ${files} files: ${steps.join(' -> ')}${p.on_failure === 'cleanup' ? '; cleanup after a failed step' : ''}${jobs}`;
}
