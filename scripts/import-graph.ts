/**
 * The import graph of src/: circles (strongly connected files) and arrows that run back up the
 * layers below. `npm run graph` prints it; a unit test holds it to no circles and the one back
 * arrow named in ALLOWED_BACK. Type-only imports count: a type ties modules as much as a value.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative, sep } from 'node:path';
import ts from 'typescript';

/** Layers, bottom first: a module imports only from its own layer or those below. Longest prefix wins. */
export const LAYERS = [
  'util',
  'spec',
  'records',
  'process',
  'ssh',
  'dataset',
  'hosts',
  'transfers',
  'faults',
  'verification',
  'pipeline',
  'executors',
  'scenario',
  'plan',
  'cells',
  'report',
  'exporters',
  'run',
  'probe',
  // One file per command of the CLI.
  'cli',
  // The entry points: the CLI, the library's index, the vitest helpers.
  '',
] as const;

/** Back arrows that stay, each with its reason (README, "Code layout"). */
export const ALLOWED_BACK: readonly string[] = [];

export interface ImportGraph {
  files: string[];
  lines: number;
  edges: Map<string, string[]>;
  circles: string[][];
  back: { from: string; to: string }[];
}

const layerOf = (file: string): number => {
  let best = LAYERS.length - 1;
  let bestLength = -1;
  LAYERS.forEach((layer, i) => {
    if (layer === '' ? !file.includes('/') : file.startsWith(`${layer}/`)) {
      if (layer.length > bestLength) [best, bestLength] = [i, layer.length];
    }
  });
  return best;
};

/** The graph of `root`; `edges` replaces the imports read from the files (to test the checks themselves). */
export function importGraph(root: string, edges?: ReadonlyMap<string, readonly string[]>): ImportGraph {
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (p.endsWith('.ts')) files.push(relative(root, p).split(sep).join('/'));
    }
  };
  walk(root);
  files.sort();
  let lines = 0;
  const read = new Map<string, string[]>();
  for (const f of files) {
    const text = readFileSync(join(root, f), 'utf8');
    lines += text.split('\n').length - 1;
    const out = new Set<string>();
    for (const i of ts.preProcessFile(text, true, true).importedFiles) {
      if (!i.fileName.startsWith('.')) continue;
      const target = normalize(join(dirname(f), i.fileName)).split(sep).join('/').replace(/\.js$/, '.ts');
      if (existsSync(join(root, target))) out.add(target);
    }
    read.set(f, [...out].sort());
  }
  const graph = (edges ?? read) as Map<string, string[]>;
  return { files, lines, edges: graph, circles: circlesOf(files, graph), back: backArrows(graph) };
}

/** Tarjan's strongly connected components of more than one file. */
function circlesOf(files: readonly string[], edges: ReadonlyMap<string, readonly string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const out: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of edges.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) !== index.get(v)) return;
    const component: string[] = [];
    let w: string;
    do {
      w = stack.pop()!;
      onStack.delete(w);
      component.push(w);
    } while (w !== v);
    if (component.length > 1) out.push(component.sort());
  };
  for (const f of files) if (!index.has(f)) visit(f);
  return out;
}

function backArrows(edges: ReadonlyMap<string, readonly string[]>): { from: string; to: string }[] {
  const out: { from: string; to: string }[] = [];
  for (const [from, targets] of edges) for (const to of targets) if (layerOf(to) > layerOf(from)) out.push({ from, to });
  return out;
}

if (process.argv[1] && import.meta.url === new URL(`file://${process.argv[1]}`).href) {
  const g = importGraph(process.argv[2] ?? 'src');
  console.log(`${g.files.length} files, ${g.lines} lines, ${g.circles.length} circles, ${g.back.length} back arrows`);
  for (const c of g.circles) console.log(`circle of ${c.length}: ${c.join(' ')}`);
  for (const b of g.back) console.log(`back: ${b.from} -> ${b.to}${ALLOWED_BACK.includes(`${b.from} -> ${b.to}`) ? ' (allowed)' : ''}`);
}
