import { readFile } from 'node:fs/promises';
import { LineCounter, parseDocument, parse as parseYaml, type Document } from 'yaml';
import { z } from 'zod';
import { ScenarioError, type ScenarioIssue } from '../errors.js';
import { crossFieldIssues, scenarioSchema, datasetSchema, transferSchema, type Scenario } from './scenario-schema.js';
import { formatPath, setIn, splitPath, startsWith, type PathKey } from './object-path.js';

/** A matrix axis: the key as written and the scenario path it overrides. */
export interface MatrixAxis {
  key: string;
  path: string[];
  values: unknown[];
}

export interface LoadedScenario {
  file: string;
  /** The scenario with --set overrides applied, before matrix expansion. */
  scenario: Scenario;
  /** The same as plain data (what matrix cells are expanded from). */
  raw: Record<string, unknown>;
  axes: MatrixAxis[];
}

const NOT_AXES = new Set(['name', 'description', 'matrix', 'thresholds', 'repeat']);

/** Short matrix keys name a transfer or dataset field; anything else is a dotted path. */
export function resolveMatrixKey(key: string): string[] | string {
  if (key.includes('.')) {
    const path = splitPath(key);
    return NOT_AXES.has(path[0]!) ? `"${path[0]}" cannot vary across the matrix` : path;
  }
  if (key in transferSchema.shape) return ['transfer', key];
  if (key in datasetSchema.shape) return ['dataset', key];
  if (key === 'backend') return ['backend'];
  return `unknown matrix key "${key}": use a transfer field (${Object.keys(transferSchema.shape).join(', ')}), a dataset field (${Object.keys(datasetSchema.shape).join(', ')}) or a dotted path such as hosts.target.sshd.MaxStartups`;
}

class Locator {
  constructor(
    private readonly doc: Document,
    private readonly lines: LineCounter,
    private readonly overridden: readonly string[][],
  ) {}

  /** Line of the deepest node of `path` present in the YAML (1-based), unless --set replaced it. */
  lineOf(path: readonly PathKey[]): number | undefined {
    if (this.overridden.some((o) => startsWith(path, o))) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return this.lines.linePos(node.range[0]).line;
    }
    return undefined;
  }

  fromSet(path: readonly PathKey[]): boolean {
    return this.overridden.some((o) => startsWith(path, o));
  }
}

/**
 * zod reports unknown keys on their parent; name each key so its line can be found. A failed
 * union reports the branch that got furthest (the one not rejected for its type at the root).
 */
function zodIssues(error: { issues: readonly z.core.$ZodIssue[] }, prefix: PathKey[] = []): { path: PathKey[]; message: string }[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branch = issue.errors.find((b) => b.every((i) => i.path.length > 0 || i.code !== 'invalid_type'));
      if (branch) return zodIssues({ issues: branch }, path);
    }
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ path: [...path, key], message: `unknown key "${key}"` }));
    }
    if (issue.code === 'invalid_type' && issue.input === undefined) {
      return [{ path, message: 'is required' }];
    }
    return [{ path, message: issue.message }];
  });
}

function located(locator: Locator, path: readonly PathKey[], message: string): ScenarioIssue {
  const line = locator.lineOf(path);
  return {
    path: formatPath(path),
    ...(line ? { line } : {}),
    message: locator.fromSet(path) ? `${message} (from --set)` : message,
  };
}

/** Applies `--set key=value` (value read as YAML, so `[5,10]` is a list and `10` a number). */
export function applySets(raw: unknown, sets: readonly string[], file: string): { raw: unknown; paths: string[][] } {
  const issues: ScenarioIssue[] = [];
  const paths: string[][] = [];
  let out = raw;
  for (const set of sets) {
    const eq = set.indexOf('=');
    if (eq <= 0) {
      issues.push({ path: set, message: '--set takes key=value, e.g. --set transfer.mux=warm' });
      continue;
    }
    const path = splitPath(set.slice(0, eq));
    let value: unknown;
    try {
      value = parseYaml(set.slice(eq + 1));
    } catch (e) {
      issues.push({ path: path.join('.'), message: `--set value is not valid YAML: ${(e as Error).message}` });
      continue;
    }
    paths.push(path);
    out = setIn(out, path, value);
  }
  if (issues.length > 0) throw new ScenarioError(file, issues);
  return { raw: out, paths };
}

/** Parses and validates a scenario document; every problem is reported at once with its YAML path. */
export function parseScenario(text: string, file: string, sets: readonly string[] = []): LoadedScenario {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ScenarioError(
      file,
      doc.errors.map((e) => ({ path: '', line: lines.linePos(e.pos[0]).line, message: `YAML: ${e.message.split('\n')[0]}` })),
    );
  }
  const { raw, paths } = applySets(doc.toJS(), sets, file);
  const locator = new Locator(doc, lines, paths);

  const base = scenarioSchema.safeParse(raw);
  const issues: ScenarioIssue[] = base.success
    ? []
    : [...zodIssues(base.error), ...crossFieldIssues(raw)].map((i) => located(locator, i.path, i.message));

  const axes: MatrixAxis[] = [];
  const matrix = (raw as { matrix?: unknown }).matrix;
  if (base.success && typeof matrix === 'object' && matrix !== null) {
    for (const [key, values] of Object.entries(base.data.matrix)) {
      const path = resolveMatrixKey(key);
      if (typeof path === 'string') {
        issues.push(located(locator, ['matrix', key], path));
        continue;
      }
      values.forEach((value, i) => {
        const candidate = scenarioSchema.safeParse(setIn(raw, path, value));
        if (candidate.success) return;
        for (const issue of zodIssues(candidate.error)) {
          if (!startsWith(issue.path, path) && !isCrossField(issue.path)) continue;
          const rest = issue.path.slice(path.length);
          const where: PathKey[] = ['matrix', key, i, ...(startsWith(issue.path, path) ? rest : [])];
          const extra = startsWith(issue.path, path) ? '' : ` (with ${key}=${JSON.stringify(value)}, ${formatPath(issue.path)})`;
          issues.push(located(locator, where, issue.message + extra));
        }
      });
      axes.push({ key, path, values });
    }
  }
  if (issues.length > 0 || !base.success) throw new ScenarioError(file, dedupe(issues));
  return { file, scenario: base.data, raw: raw as Record<string, unknown>, axes };
}

/** Cross-field checks (e.g. a via host that is not defined) can be triggered by a matrix value. */
function isCrossField(path: readonly PathKey[]): boolean {
  return startsWith(path, ['transfer', 'to']) || startsWith(path, ['transfer', 'via']);
}

function dedupe(issues: ScenarioIssue[]): ScenarioIssue[] {
  const seen = new Set<string>();
  return issues.filter((i) => {
    const key = `${i.path}\u0000${i.message}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

export async function loadScenario(file: string, sets: readonly string[] = []): Promise<LoadedScenario> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new ScenarioError(file, [{ path: '', message: `cannot read the scenario file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  return parseScenario(text, file, sets);
}
