import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { parseScenario } from '../../src/plan/load-plan.js';
import { fileContent, planDataset, sha256Of } from '../../src/dataset/dataset.js';
import { datasetSchema } from '../../src/spec/dataset.js';

const BASE = `name: t
hosts: { target: {}, head: {} }
dataset: { files: 10, size: 1KiB }
transfer: { to: target }
`;

describe('plan', () => {
  it('expands the matrix as a cross product in order', () => {
    const plan = parseScenario(`${BASE}matrix:\n  concurrency: [1, 10]\n  mux: [off, warm]\nrepeat: 3\n`, 'x.yaml').plan;
    assert.deepEqual(plan.cells.map((c) => c.id), ['concurrency=1,mux=off', 'concurrency=1,mux=warm', 'concurrency=10,mux=off', 'concurrency=10,mux=warm']);
    assert.equal(plan.cells[3]!.scenario.transfer!.mux, 'warm');
    assert.equal(plan.cells[3]!.scenario.transfer!.concurrency, 10);
    assert.equal(plan.totalTransfers, 4 * 10 * 3);
    assert.equal(plan.groups.length, 1, 'transfer settings share one topology');
  });

  it('starts a topology per host configuration', () => {
    const plan = parseScenario(`${BASE}matrix:\n  hosts.target.sshd.MaxStartups: ["10:30:100", "1000"]\n  concurrency: [5, 50]\n`, 'x.yaml').plan;
    assert.equal(plan.groups.length, 2);
    assert.deepEqual(plan.groups.map((g) => g.cells.length), [2, 2]);
    assert.equal(plan.groups[1]!.hosts.target!.sshd.MaxStartups, '1000');
  });

  it('locates a problem of one combination at the matrix value that caused it', () => {
    assert.throws(() => parseScenario(`${BASE}matrix:\n  to: [target, head]\n  via: [[], [head]]\n`, 'x.yaml'), (e: Error & { issues?: { path: string; line?: number; message: string }[] }) => {
      assert.deepEqual(e.issues?.map((i) => [i.path, i.line]), [['matrix.via[1][0]', 7]]);
      assert.match(e.issues![0]!.message, /"head" is the destination itself/);
      return true;
    });
  });

  it('is a single default cell without a matrix', () => {
    const plan = parseScenario(BASE, 'x.yaml').plan;
    assert.deepEqual(plan.cells.map((c) => c.id), ['default']);
  });
});

describe('dataset', () => {
  const spec = (over: object) => datasetSchema.parse({ files: 12, size: '4KiB', ...over });

  it('is reproducible byte for byte and depends on the seed', () => {
    const a = planDataset(spec({ seed: 7 }));
    const b = planDataset(spec({ seed: 7 }));
    const c = planDataset(spec({ seed: 8 }));
    assert.equal(sha256Of(a.entries[3]!), sha256Of(b.entries[3]!));
    assert.notEqual(sha256Of(a.entries[3]!), sha256Of(c.entries[3]!));
    assert.notEqual(sha256Of(a.entries[3]!), sha256Of(a.entries[4]!), 'files differ from each other');
  });

  it('produces exactly the file size, across chunk boundaries', () => {
    for (const size of [0, 1, 1_048_575, 1_048_577]) {
      const entry = { path: 'f', size, seed: 1 };
      assert.equal([...fileContent(entry)].reduce((n, b) => n + b.length, 0), size);
    }
  });

  it('lays out HPC timesteps: timestep.K.root and timestep.K/data.R', () => {
    const plan = planDataset(spec({ layout: 'timestep', ranks: 3, files: 8 }));
    assert.deepEqual(plan.entries.map((e) => e.path), [
      'timestep.0.root', 'timestep.0/data.0', 'timestep.0/data.1', 'timestep.0/data.2',
      'timestep.1.root', 'timestep.1/data.0', 'timestep.1/data.1', 'timestep.1/data.2',
    ]);
    assert.deepEqual(plan.dirs, ['timestep.0', 'timestep.1']);
  });

  it('spreads a tree over two levels with parents listed first', () => {
    const plan = planDataset(spec({ layout: 'tree', fanout: 2, files: 8 }));
    assert.equal(new Set(plan.entries.map((e) => e.path)).size, 8);
    assert.deepEqual(plan.dirs, ['d0', 'd1', 'd0/d0', 'd0/d1', 'd1/d0', 'd1/d1']);
  });

  it('draws sizes log-uniformly within a range', () => {
    const plan = planDataset(spec({ size: '1KiB..1MiB', files: 2000 }));
    const sizes = plan.entries.map((e) => e.size);
    assert.ok(sizes.every((s) => s >= 1024 && s <= 1_048_576));
    const belowGeoMean = sizes.filter((s) => s < 32 * 1024).length;
    assert.ok(belowGeoMean > 800 && belowGeoMean < 1200, `about half below the geometric mean, got ${belowGeoMean}`);
    assert.equal(plan.totalBytes, sizes.reduce((a, b) => a + b, 0));
  });
});
