import { describe, it } from 'vitest';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { ALLOWED_BACK, importGraph, LAYERS } from '../../scripts/import-graph.js';

const SRC = fileURLToPath(new URL('../../src', import.meta.url));

describe('import graph', () => {
  const graph = importGraph(SRC);

  it('has no circles', () => {
    assert.deepEqual(graph.circles, []);
  });

  it('has no import running back up a layer but those allowed, each with its reason', () => {
    assert.deepEqual(graph.back.map((b) => `${b.from} -> ${b.to}`).filter((b) => !ALLOWED_BACK.includes(b)), []);
  });

  it('places every folder of src/ in a layer', () => {
    const folders = new Set(graph.files.filter((f) => f.includes('/')).map((f) => f.split('/')[0]!));
    assert.deepEqual([...folders].filter((f) => !(LAYERS as readonly string[]).includes(f)), []);
  });

  it('sees a circle and a back arrow where there is one', () => {
    // The checks above can fail: the same graph with one arrow reversed has both.
    const edges = new Map(graph.edges);
    edges.set('spec/fields.ts', [...(edges.get('spec/fields.ts') ?? []), 'scenario/scenario-schema.ts']);
    const reversed = importGraph(SRC, edges);
    assert.ok(reversed.circles.length > 0);
    assert.ok(reversed.back.some((b) => b.from === 'spec/fields.ts'));
  });
});
