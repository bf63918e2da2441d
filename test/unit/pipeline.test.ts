import { afterEach, beforeEach, describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileContent, planDataset } from '../../src/dataset/dataset.js';
import { parseCompute, type ComputeSpec } from '../../src/pipeline/compute/registry.js';
import { sourceMetadata } from '../../src/pipeline/commit.js';
import { finalizeStates } from '../../src/pipeline/finalize.js';
import { checkInvariants } from '../../src/pipeline/invariants.js';
import { assignRanks, pipelineExpectations, stagingPaths } from '../../src/pipeline/layout.js';
import { readState, writeState, type FileState, type RankState, type StepState } from '../../src/pipeline/state-file.js';
import type { StepName } from '../../src/records/pipeline-records.js';
import { parseStrategy } from '../../src/pipeline/pipeline-spec.js';
import { parseScenario } from '../../src/plan/load-plan.js';

const SCENARIO = `name: p
hosts: { user: {} }
dataset: { files: 9, size: 1KiB, layout: timestep, ranks: 2 }
pipeline:
  ranks: 2
  stage_in: { from: user }
  compute: { run: transform }
  stage_out: { to: user, commit: temp-rename }
`;

describe('pipeline: strategies and compute builtins', () => {
  it('parses strategies and refuses batch:0 and unknown ones', () => {
    assert.deepEqual(parseStrategy('per-file'), { kind: 'per-file' });
    assert.deepEqual(parseStrategy('tree'), { kind: 'tree' });
    assert.deepEqual(parseStrategy('batch:8'), { kind: 'batch', size: 8 });
    assert.match(parseStrategy('batch:0') as string, /at least 1/);
    assert.match(parseStrategy('batch:x') as string, /not a strategy/);
  });

  it('parses compute builtins with their arguments', () => {
    assert.equal((parseCompute('transform') as ComputeSpec).name, 'transform');
    assert.equal((parseCompute('sleep:2s') as ComputeSpec).argument, 2000);
    assert.equal((parseCompute('fail:0.2') as ComputeSpec).argument, 0.2);
    assert.match(parseCompute('fail:2') as string, /fraction/);
    assert.match(parseCompute('transform:1') as string, /takes no argument/);
    assert.match(parseCompute('sleep') as string, /needs an argument/);
    assert.match(parseCompute('rm -rf /') as string, /unknown compute/);
  });

  it('fail:P fails the same seeded ranks every time, about P of them', () => {
    const fail = parseCompute('fail:0.2') as ComputeSpec;
    const failing = (seed: number) => Array.from({ length: 1000 }, (_, r) => fail.kind.behaviour!(fail.argument, r, seed).fail);
    assert.deepEqual(failing(1), failing(1));
    assert.notDeepEqual(failing(1), failing(2));
    const share = failing(1).filter(Boolean).length / 1000;
    assert.ok(share > 0.15 && share < 0.25, `${share}`);
  });

  it('timestep layout: rank R stages timestep.K/data.R, rank 0 also the roots', () => {
    const spec = parseScenario(SCENARIO, 'p.yaml').scenario;
    const ranks = assignRanks(planDataset(spec.dataset), spec.dataset, 2);
    assert.deepEqual(ranks[0]!.map((e) => e.path), ['timestep.0.root', 'timestep.0/data.0', 'timestep.1.root', 'timestep.1/data.0', 'timestep.2.root', 'timestep.2/data.0']);
    assert.deepEqual(ranks[1]!.map((e) => e.path), ['timestep.0/data.1', 'timestep.1/data.1', 'timestep.2/data.1']);
  });

  it('expected outputs: transform changes every byte and keeps the size; checksum writes NAME.sha256', () => {
    const loaded = parseScenario(SCENARIO, 'p.yaml');
    const { outputs, inputs } = pipelineExpectations(loaded.scenario);
    assert.equal(outputs[1]![0]!.size, inputs[1]![0]!.size);
    assert.notEqual(outputs[1]![0]!.sha256, inputs[1]![0]!.sha256);
    const input = Buffer.concat([...fileContent(inputs[1]![0]!.input)]);
    const twice = Buffer.concat([...(parseCompute('transform') as ComputeSpec).kind.transform((parseCompute('transform') as ComputeSpec).kind.transform([input]))]);
    assert.deepEqual(twice, input, 'XOR twice is the input');
    const checksum = parseCompute('checksum') as ComputeSpec;
    assert.equal(checksum.kind.outputPath('timestep.0/data.1'), 'timestep.0/data.1.sha256');
  });
});

/** A step state as a rank saves it when the step ended well. */
const okStep = (step: StepName): StepState => ({ status: 'ok', record: { step, status: 'ok', start_ms: 0, end_ms: 1, files: 1, bytes: 1 } });

describe('pipeline: state files, finalize, invariants', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'xb-pipeline-unit-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function put(path: string, text: string): Promise<void> {
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, text);
  }

  /** A source file with a mode and an mtime of its own, and its landed temporary. */
  async function landed(name: string, status: FileState['status'], tempText = 'data'): Promise<FileState> {
    const source = join(dir, 'src', name);
    await put(source, 'data');
    await chmod(source, 0o640);
    await utimes(source, 1_600_000_000.123456, 1_600_000_000.654321);
    const temp = join(dir, 'dest', '.xb-partial', name);
    await put(temp, tempText);
    return { step: 'stage_out', source, temp, final: join(dir, 'dest', name), ...(await sourceMetadata(source)), status };
  }

  it('a state file is written whole and read back; no temporary is left beside it', async () => {
    const state: RankState = { version: 2, cell: 'c', repeat: 1, rank: 7, steps: { stage_in: okStep('stage_in') }, files: [], temp_roots: [] };
    await writeState(dir, state);
    assert.deepEqual(await readState(dir, 7), state);
    assert.deepEqual(await readdir(dir), ['rank-7.json']);
  });

  it('finalize commits landed files with their metadata, deletes the rest, and a second run does nothing', async () => {
    const files = [await landed('a', 'landed'), await landed('b', 'inprog'), await landed('c', 'landed', 'dat'), await landed('d', 'error')];
    const root = join(dir, 'dest', '.xb-partial');
    await put(join(root, '.e.Ab12Cd'), 'a killed rsync\'s temporary');
    await mkdir(join(dir, 'state'));
    await writeState(join(dir, 'state'), { version: 2, cell: 'c', repeat: 1, rank: 0, steps: {}, files, temp_roots: [root] });
    const [first] = await finalizeStates(dir);
    assert.equal(first!.finalized, 1);
    assert.equal(first!.removed, 3, 'unfinished, failed and wrong-size temporaries');
    assert.match(first!.errors.join(), /size 3, source had 4/);
    const s = await stat(join(dir, 'dest', 'a'));
    assert.equal(s.mode & 0o7777, 0o640);
    assert.equal(Math.round(s.mtimeMs), 1_600_000_000_654);
    assert.deepEqual(await readdir(join(dir, 'dest')), ['a'], 'only the committed file; the temporary folder is gone');
    const text = await readFile(join(dir, 'state', 'rank-0.json'), 'utf8');
    const [second] = await finalizeStates(dir);
    assert.deepEqual([second!.finalized, second!.removed, second!.unchanged], [0, 0, 4]);
    assert.equal(await readFile(join(dir, 'state', 'rank-0.json'), 'utf8'), text, 'state untouched');
  });

  it('each invariant catches its violation: a partial final file, a stray temporary, changed metadata, an unfinished rank', async () => {
    const loaded = parseScenario(SCENARIO, 'p.yaml');
    const expected = pipelineExpectations(loaded.scenario);
    const paths = stagingPaths(dir, 0, 1);
    const outputs = paths.outputs('user');
    // Rank 0 delivered everything; rank 1 one whole file and one cut short.
    for (const f of expected.outputs[0]!) {
      await mkdir(dirname(join(outputs, f.path)), { recursive: true });
      await writeFile(join(outputs, f.path), Buffer.concat([...expected.compute!.kind.transform(fileContent(f.input))]));
    }
    const [whole, cut] = expected.outputs[1]!;
    await writeFile(join(outputs, whole!.path), Buffer.concat([...expected.compute!.kind.transform(fileContent(whole!.input))]));
    await writeFile(join(outputs, cut!.path), Buffer.alloc(10));
    await put(join(outputs, 'timestep.0', '.data.1.Zz9Yy8'), 'x');
    const committed = await landed('m', 'final');
    await put(committed.final, 'data');
    await chmod(committed.final, 0o640);
    const ok: RankState['steps'] = { stage_in: okStep('stage_in'), compute: okStep('compute'), stage_out: okStep('stage_out') };
    const states: RankState[] = [
      { version: 2, cell: 'c', repeat: 1, rank: 0, steps: ok, files: [committed], temp_roots: [] },
      { version: 2, cell: 'c', repeat: 1, rank: 1, steps: { ...ok, stage_out: { status: 'running' } }, files: [], temp_roots: [] },
    ];
    const result = await checkInvariants({ spec: expected.spec, paths, inputs: expected.inputs, outputs: expected.outputs, states });
    const by = (n: number) => result.violations.filter((v) => v.invariant === n);
    assert.equal(by(1).length, 1, JSON.stringify(result.violations));
    assert.match(by(1)[0]!.detail, /partial: 10 of 1024 bytes/);
    assert.equal(by(2).length, 1);
    assert.match(by(3)[0]!.detail, /mtime differs/);
    assert.match(by(4)[0]!.detail, /rank 1 never finished stage_out/);
    assert.deepEqual(result.ranks, { ok: 1, failed: 0, cleaned: 0 });
  });
});
