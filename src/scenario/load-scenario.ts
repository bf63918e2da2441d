import { open } from 'node:fs/promises';
import { isMap, isScalar, isSeq, LineCounter, parseDocument, parse as parseYaml, type Document } from 'yaml';
import * as z from 'zod';
import { ScenarioError, type ScenarioIssue } from '../util/errors.js';
import { crossFieldIssues, scenarioSchema, type Scenario } from './scenario-schema.js';
import { datasetSchema } from '../spec/dataset.js';
import { transferSchema } from '../transfers/transfer-spec.js';
import { DEFAULT_LIMITS, MAX_FILE_BYTES, MAX_SETS, sizeIssues, type Limits } from '../spec/limits.js';
import { describe } from '../spec/option-values.js';
import { NAME_PATTERN } from '../spec/fields.js';
import { formatPath, setIn, splitPath, startsWith, type PathKey } from '../spec/object-path.js';
import { controlCharacterIssues, PROTOTYPE_NAMES, prototypeKeyIssues } from '../spec/safe-text.js';
import { sshdOptionsSchema } from '../spec/sshd-options.js';

/** A matrix axis: the key as written and the scenario path it overrides. */
export interface MatrixAxis {
  key: string;
  path: string[];
  values: unknown[];
}

/** A scenario read and validated, not yet planned (plan/load-plan.ts plans it). */
export interface ParsedScenario {
  file: string;
  /** The scenario with --set overrides applied, before matrix expansion. */
  scenario: Scenario;
  /** The same as plain data (what matrix cells are expanded from). */
  raw: Record<string, unknown>;
  axes: MatrixAxis[];
  /** Refuses the scenario with these problems, each located in the file (planning finds some). */
  reject(issues: readonly { path: PathKey[]; message: string }[]): never;
  /** A problem found later (sshd -t, versions) at `path`, with its line in the file. */
  issueAt(path: readonly PathKey[], message: string): ScenarioIssue;
}

export interface LoadOptions {
  /** `--set key=value` overrides. */
  sets?: readonly string[];
  /** Raised size limits (`--limit`). */
  limits?: Partial<Limits>;
  /** `--i-administer-this-host`: the load on external hosts is not capped (spec/external-host.ts). */
  administer?: boolean;
}

const NOT_AXES = new Set(['name', 'description', 'matrix', 'thresholds', 'repeat']);

/** Short matrix keys name a transfer or dataset field; anything else is a dotted path. */
export function resolveMatrixKey(key: string): string[] | string {
  if (key.includes('.')) {
    const path = splitPath(key);
    return NOT_AXES.has(path[0]!) ? `"${path[0]}" cannot vary across the matrix` : path;
  }
  if (Object.hasOwn(transferSchema.shape, key)) return ['transfer', key];
  if (Object.hasOwn(datasetSchema.shape, key)) return ['dataset', key];
  if (key === 'backend' || key === 'faults') return [key];
  return `unknown matrix key ${JSON.stringify(key.slice(0, 60))}: use a transfer field (${Object.keys(transferSchema.shape).join(', ')}), a dataset field (${Object.keys(datasetSchema.shape).join(', ')}), faults, or a dotted path such as hosts.target.sshd.MaxStartups`;
}

type Issue = { path: PathKey[]; message: string; line?: number };

class Locator {
  constructor(
    private readonly doc: Document | undefined,
    private readonly lines: LineCounter,
    private readonly overridden: readonly string[][],
  ) {}

  /** Line of the deepest node of `path` present in the YAML (1-based), unless --set replaced it. */
  lineOf(path: readonly PathKey[]): number | undefined {
    if (!this.doc || this.fromSet(path)) return undefined;
    for (let n = path.length; n >= 0; n--) {
      const node = this.doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node?.range) return this.lines.linePos(node.range[0]).line;
    }
    return undefined;
  }

  fromSet(path: readonly PathKey[]): boolean {
    return this.overridden.some((o) => startsWith(path, o));
  }

  issue(path: readonly PathKey[], message: string, known?: number): ScenarioIssue {
    const line = known ?? this.lineOf(path);
    return { path: formatPath(path), ...(line ? { line } : {}), message: this.fromSet(path) ? `${message} (from --set)` : message };
  }
}

/**
 * The path of the map key or list item a YAML error's position falls in, or the last one before
 * it (an unclosed bracket is reported at the end of the file, after the key that opened it).
 */
function pathAt(node: unknown, offset: number, path: PathKey[] = []): PathKey[] {
  const start = (n: unknown) => (n as { range?: [number, number, number] } | null)?.range?.[0];
  if (path.length >= 32) return path; // deep enough to find the place; deeper nesting is refused anyway
  if (isMap(node)) {
    const pair = node.items.findLast((p) => (start(p.key) ?? Infinity) <= offset);
    if (!pair) return path;
    const key = isScalar(pair.key) ? String(pair.key.value) : '?';
    const valueStart = start(pair.value);
    return valueStart !== undefined && valueStart <= offset ? pathAt(pair.value, offset, [...path, key]) : [...path, key];
  }
  if (isSeq(node)) {
    const i = node.items.findLastIndex((item) => (start(item) ?? Infinity) <= offset);
    return i >= 0 ? pathAt(node.items[i], offset, [...path, i]) : path;
  }
  return path;
}

const EXPECTED: Record<string, string> = { int: 'a whole number', number: 'a number', string: 'text', object: 'a mapping', record: 'a mapping', array: 'a list', boolean: 'true or false' };

/**
 * zod reports unknown keys on their parent; name each key so its line can be found. A failed
 * union reports the branch that got furthest (the one not rejected for its type at the root).
 * A wrong type says what was expected and what was found.
 */
function zodIssues(error: { issues: readonly z.core.$ZodIssue[] }, prefix: PathKey[] = []): Issue[] {
  return error.issues.flatMap((issue) => {
    const path = [...prefix, ...issue.path.map((p) => (typeof p === 'symbol' ? String(p) : p))];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const branch = issue.errors.find((b) => b.every((i) => i.path.length > 0 || i.code !== 'invalid_type'));
      if (branch) return zodIssues({ issues: branch }, path);
    }
    if (issue.code === 'unrecognized_keys') {
      // A pipeline's keys are its steps: say which exist.
      const what = path.length === 1 && path[0] === 'pipeline' ? (key: string) => `unknown step ${JSON.stringify(key.slice(0, 60))}; a pipeline has ranks, strategy, stage_in, compute, stage_out and on_failure` : (key: string) => `unknown key ${JSON.stringify(key.slice(0, 60))}`;
      return issue.keys.map((key) => ({ path: [...path, key], message: what(key) }));
    }
    if (issue.code === 'invalid_type') {
      if (issue.input === undefined) return [{ path, message: 'is required' }];
      return [{ path, message: `expected ${EXPECTED[issue.expected] ?? issue.expected}, found ${describe(issue.input)}` }];
    }
    return [{ path, message: issue.message }];
  });
}

/** Applies `--set key=value` (value read as YAML, so `[5,10]` is a list and `10` a number). */
function applySets(raw: Record<string, unknown>, sets: readonly string[]): { raw: Record<string, unknown>; paths: string[][]; issues: Issue[] } {
  const issues: Issue[] = [];
  const paths: string[][] = [];
  let out: unknown = raw;
  if (sets.length > MAX_SETS) return { raw, paths, issues: [{ path: [], message: `${sets.length} --set options; at most ${MAX_SETS}` }] };
  for (const set of sets) {
    const eq = set.indexOf('=');
    const path = eq > 0 ? splitPath(set.slice(0, eq)) : [];
    if (path.some((p) => PROTOTYPE_NAMES.has(p))) {
      issues.push({ path: [], message: `--set ${describe(set.slice(0, eq))}: "${path.find((p) => PROTOTYPE_NAMES.has(p))}" is not a name xferbench accepts for a key` });
      continue;
    }
    if (eq <= 0 || path.length === 0 || path.length > 8 || set.length > 4096) {
      issues.push({ path: [], message: `--set takes key=value (at most 4096 characters), e.g. --set transfer.mux=warm; got ${describe(set)}` });
      continue;
    }
    let value: unknown;
    try {
      value = parseYaml(set.slice(eq + 1), { maxAliasCount: 10 });
    } catch (e) {
      issues.push({ path, message: `--set value is not valid YAML: ${(e as Error).message.split('\n')[0]}` });
      continue;
    }
    paths.push(path);
    out = setIn(out, path, value);
  }
  return { raw: out as Record<string, unknown>, paths, issues };
}

/** One matrix value checked against its own section, so it is reported even while other sections have errors. */
function axisValueIssues(raw: Record<string, unknown>, key: string, path: string[], values: unknown[]): Issue[] {
  const section = scenarioSchema.shape[path[0] as keyof typeof scenarioSchema.shape] as z.ZodType | undefined;
  if (!section) return [{ path: ['matrix', key], message: `"${path[0]}" is not a scenario field` }];
  return values.flatMap((value, i) => {
    const result = section.safeParse(setIn(raw[path[0]!], path.slice(1), value), { reportInput: true });
    if (result.success) return [];
    return zodIssues(result.error, [path[0]!])
      .filter((issue) => startsWith(issue.path, path))
      .map((issue) => ({ path: ['matrix', key, i, ...issue.path.slice(path.length)], message: issue.message }));
  });
}

function parseDocumentText(text: string, lines: LineCounter): { doc?: Document; raw?: Record<string, unknown>; issues: Issue[] } {
  if (Buffer.byteLength(text) > MAX_FILE_BYTES) return { issues: [{ path: [], message: `the file is larger than ${MAX_FILE_BYTES} bytes; a scenario is a page of YAML` }] };
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      doc,
      issues: doc.errors.map((e) => {
        const line = lines.linePos(e.pos[0]).line;
        if (e.code === 'MULTIPLE_DOCS') return { path: [], line, message: 'a scenario file holds one YAML document; a second one starts here' };
        const path = pathAt(doc.contents, e.pos[0]);
        const what =
          e.code === 'DUPLICATE_KEY' ? `the key ${JSON.stringify(String(path.at(-1) ?? '').slice(0, 60))} appears twice in the same mapping`
          : /call stack/.test(e.message) ? 'the document nests too deeply'
          : `YAML: ${e.message.split('\n')[0]}`;
        return { path, message: what, line };
      }),
    };
  }
  if (doc.contents === null) return { doc, issues: [{ path: [], message: 'the file is empty: a scenario is a mapping with name, hosts, dataset and transfer (xferbench init writes one)' }] };
  let raw: unknown;
  try {
    // The default alias budget (100): an alias bomb is refused before it expands.
    raw = doc.toJS({ maxAliasCount: 100 });
  } catch (e) {
    return { doc, issues: [{ path: [], message: `YAML aliases expand too far (${(e as Error).message})` }] };
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    return { doc, issues: [{ path: [], message: `a scenario is a mapping (name: ..., hosts: ..., dataset: ..., transfer: ...), found ${describe(raw)}` }] };
  }
  return { doc, raw: raw as Record<string, unknown>, issues: [] };
}

/**
 * Parses and validates a scenario document in one pass: YAML, --set values, control characters,
 * size limits (before expansion), schema, every matrix value and every cell. Every problem is
 * reported at once with its YAML path and line; nothing is started or written.
 */
export function parseScenarioText(text: string, file: string, options: LoadOptions | readonly string[] = {}): ParsedScenario {
  const { sets = [], limits = {} } = Array.isArray(options) ? { sets: options as readonly string[] } : (options as LoadOptions);
  const lines = new LineCounter();
  const parsed = parseDocumentText(text, lines);
  const fail = (locator: Locator, issues: readonly Issue[], raw?: Record<string, unknown>): never => {
    const sshd = raw ? checkableSshd(raw.hosts) : {};
    throw new ScenarioError(file, issues.map((i) => locator.issue(i.path, i.message, i.line)), { sshd, issueAt: (p, m) => locator.issue(p, m) });
  };
  if (!parsed.raw) fail(new Locator(undefined, lines, []), parsed.issues);
  const { raw, paths, issues: setIssues } = applySets(parsed.raw!, sets);
  const locator = new Locator(parsed.doc, lines, paths);
  const issues: Issue[] = [...setIssues, ...controlCharacterIssues(raw), ...prototypeKeyIssues(raw)];
  const sized = sizeIssues(raw, resolveMatrixKey, { ...DEFAULT_LIMITS, ...limits });
  issues.push(...sized);

  const base = scenarioSchema.safeParse(raw, { reportInput: true });
  if (!base.success) issues.push(...zodIssues(base.error), ...crossFieldIssues(raw));

  const axes: MatrixAxis[] = [];
  const matrix = raw.matrix;
  if (typeof matrix === 'object' && matrix !== null && !Array.isArray(matrix)) {
    for (const [key, values] of Object.entries(matrix)) {
      if (!Array.isArray(values)) continue; // the schema says so
      if (key.split('.').some((p) => PROTOTYPE_NAMES.has(p))) continue; // said above
      const path = resolveMatrixKey(key);
      if (typeof path === 'string') {
        issues.push({ path: ['matrix', key], message: path });
        continue;
      }
      if (sized.length === 0) issues.push(...axisValueIssues(raw, key, path, values));
      axes.push({ key, path, values });
    }
  }
  issues.push(...thresholdIssues(raw.thresholds, axes));
  if (issues.length > 0 || !base.success) fail(locator, issues, raw);
  return { file, scenario: base.data!, raw, axes, reject: (found) => fail(locator, found, raw), issueAt: (path, message) => locator.issue(path, message) };
}

/**
 * A `when` key that is not a matrix axis (a typo) matches no cell: the threshold would be dropped
 * from the report without a word, a CI gate disabled by one wrong letter.
 */
function thresholdIssues(thresholds: unknown, axes: readonly MatrixAxis[]): Issue[] {
  const keys = axes.map((a) => a.key);
  if (!Array.isArray(thresholds)) return [];
  return thresholds.flatMap((t: unknown, i) => {
    const when = (t as { when?: unknown } | null)?.when;
    if (typeof when !== 'object' || when === null || Array.isArray(when)) return [];
    const unknown = Object.keys(when).filter((k) => !keys.includes(k));
    return unknown.map((k) => ({ path: ['thresholds', i, 'when', k], message: `${JSON.stringify(k.slice(0, 60))} is not a matrix axis of this scenario (${keys.length > 0 ? `axes: ${keys.join(', ')}` : 'it has no matrix'}); the threshold would judge no cell` }));
  });
}

/** The sshd options of every host whose options are valid on their own (sshd -t can still check those). */
function checkableSshd(hosts: unknown): Record<string, Record<string, string>> {
  if (typeof hosts !== 'object' || hosts === null || Array.isArray(hosts)) return {};
  const out: Record<string, Record<string, string>> = {};
  for (const [name, spec] of Object.entries(hosts)) {
    const r = sshdOptionsSchema.safeParse((spec as { sshd?: unknown } | null)?.sshd ?? {});
    if (r.success && NAME_PATTERN.test(name)) out[name] = r.data;
  }
  return out;
}

/** Reads at most MAX_FILE_BYTES + 1 bytes: a huge file is refused without being read whole. */
export async function readScenario(file: string, options: LoadOptions | readonly string[] = {}): Promise<ParsedScenario> {
  let text: string;
  try {
    const handle = await open(file, 'r');
    try {
      const buffer = Buffer.alloc(MAX_FILE_BYTES + 1);
      const { bytesRead } = await handle.read(buffer, 0, buffer.length, 0);
      text = buffer.subarray(0, bytesRead).toString('utf8');
    } finally {
      await handle.close();
    }
  } catch (e) {
    throw new ScenarioError(file, [{ path: '', message: `cannot read the scenario file: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}` }]);
  }
  return parseScenarioText(text, file, options);
}
