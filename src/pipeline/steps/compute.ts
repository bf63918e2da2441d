import { appendFile, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PipelineRepeat, StepKind, StepResult } from './step-kind.js';

/**
 * compute on the worker (this machine): the builtin's output for each staged input, written to
 * the rank's out folder. compute.log gets a `start` and an `end` line per run: how a test proves
 * that a resumed run never computed a rank twice.
 */
export const computeStep: StepKind = {
  present: (spec) => spec.compute !== undefined,
  async run(p, r): Promise<StepResult> {
    const { kind, argument } = p.compute!;
    const behaviour = kind.behaviour?.(argument, r.rank, p.seed) ?? {};
    const worker = p.paths.worker(r.rank);
    await rm(worker.out, { recursive: true, force: true });
    await mkdir(worker.out, { recursive: true });
    await appendFile(worker.computeLog, `start ${p.clock().toFixed(1)}\n`);
    if (behaviour.delayMs) {
      const slept = await sleep(behaviour.delayMs, true, p.signal ? { signal: p.signal } : {}).catch(() => false);
      if (!slept) return { status: 'failed', files: 0, bytes: 0, failure_class: 'interrupted' };
    }
    const inputs = p.inputs[r.rank]!;
    // A failing rank dies half-way: its partial outputs are what on_failure must clean up.
    const stopAt = behaviour.fail ? Math.floor(inputs.length / 2) : inputs.length;
    let bytes = 0;
    for (const [i, input] of inputs.entries()) {
      if (i >= stopAt) break;
      const data = await readFile(join(worker.in, input.path));
      const out = join(worker.out, kind.outputPath(input.path));
      await mkdir(dirname(out), { recursive: true });
      const chunks = [...kind.transform([data])];
      await writeFile(out, Buffer.concat(chunks));
      bytes += chunks.reduce((n, c) => n + c.length, 0);
    }
    // This line is where the compute ends: a resumed run that finds it does not compute again.
    await appendFile(worker.computeLog, `${behaviour.fail ? 'failed' : 'end'} ${stopAt} ${bytes}\n`);
    return outcome(p, behaviour.fail === true, stopAt, bytes, inputs.length);
  },
  async ended(p, r) {
    const log = await readFile(p.paths.worker(r.rank).computeLog, 'utf8').catch(() => '');
    const last = /^(end|failed) (\d+) (\d+)$/.exec(log.trimEnd().split('\n').at(-1) ?? '');
    return last ? outcome(p, last[1] === 'failed', Number(last[2]), Number(last[3]), p.inputs[r.rank]!.length) : undefined;
  },
};

function outcome(p: PipelineRepeat, failed: boolean, files: number, bytes: number, of: number): StepResult {
  return failed
    ? { status: 'failed', files, bytes, failure_class: 'compute_failed', reason: `${p.compute!.name} failed this rank after ${files} of ${of} outputs` }
    : { status: 'ok', files, bytes };
}
