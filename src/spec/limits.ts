import { parseSize } from './size.js';

/**
 * How big a scenario may make a run, checked on the raw document before the matrix is expanded
 * (so a file that multiplies to a million cells costs nothing to refuse). `--limit NAME=N` raises
 * one; the defaults are documented in docs/security.md.
 */
export interface Limits {
  /** Matrix cells: the product of the axis lengths. Each is planned and validated. */
  cells: number;
  /** Cells × repeat: each starts a repeat with its own destination and verification. */
  runs: number;
  /** Files transferred over the whole run (each one a process). */
  transfers: number;
  /** Bytes of one dataset (files × largest size), generated on disk. */
  bytes: number;
  /** sshd hosts of one cell, replicas (`count`) included: each is a process (or a container) on this machine. */
  hosts: number;
  /** Transfers (or pipeline ranks) at once in a cell: each is a process tree of its own. */
  concurrency: number;
}

export const DEFAULT_LIMITS: Limits = { cells: 1000, runs: 10_000, transfers: 1_000_000, bytes: 32 * 1024 ** 3, hosts: 64, concurrency: 1024 };

/** Limits on the document itself, not raisable: they bound parsing, not the run. */
export const MAX_FILE_BYTES = 1024 * 1024;
export const MAX_AXES = 16;
export const MAX_AXIS_VALUES = 1000;
export const MAX_SETS = 100;

export function parseLimit(text: string): [keyof Limits, number] | string {
  const m = /^(cells|runs|transfers|bytes|hosts|concurrency)=(\d{1,15})$/.exec(text);
  if (!m) return `--limit takes NAME=N with NAME one of ${Object.keys(DEFAULT_LIMITS).join(', ')}, e.g. --limit cells=5000`;
  return [m[1] as keyof Limits, Number(m[2])];
}

type Issue = { path: (string | number)[]; message: string };
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Size of the run the raw document asks for. `axisPath` resolves a matrix key to the field it
 * varies. Values of the wrong type count as 1 (the schema reports them).
 */
export function sizeIssues(raw: Record<string, unknown>, axisPath: (key: string) => string[] | string, limits: Limits): Issue[] {
  const issues: Issue[] = [];
  const matrix = isRecord(raw.matrix) ? raw.matrix : {};
  const axes = Object.entries(matrix).filter((e): e is [string, unknown[]] => Array.isArray(e[1]));
  if (axes.length > MAX_AXES) issues.push({ path: ['matrix'], message: `${axes.length} axes; at most ${MAX_AXES}` });
  for (const [key, values] of axes) {
    if (values.length > MAX_AXIS_VALUES) issues.push({ path: ['matrix', key], message: `${values.length} values; at most ${MAX_AXIS_VALUES} per axis` });
  }
  if (issues.length > 0) return issues;

  const cells = axes.reduce((n, [, values]) => n * Math.max(1, values.length), 1);
  const repeat = typeof raw.repeat === 'number' && raw.repeat >= 1 ? raw.repeat : 1;
  const raise = (name: keyof Limits) => `raise it with --limit ${name}=N if you mean it`;
  if (cells > limits.cells) {
    issues.push({ path: ['matrix'], message: `${axes.map(([k, v]) => `${v.length} ${k}`).join(' × ')} = ${cells} cells; the limit is ${limits.cells} (${raise('cells')})` });
  }
  if (cells * repeat > limits.runs) {
    issues.push({ path: ['repeat'], message: `${cells} cells × ${repeat} repeats = ${cells * repeat} cell runs; the limit is ${limits.runs} (${raise('runs')})` });
  }

  // Files and sizes may themselves be axes: the total sums over their values, the largest
  // dataset takes the largest of each.
  const dataset = isRecord(raw.dataset) ? raw.dataset : {};
  const varying = (field: 'files' | 'size'): unknown[] => {
    const axis = axes.find(([key]) => {
      const p = axisPath(key);
      return Array.isArray(p) && p.length === 2 && p[0] === 'dataset' && p[1] === field;
    });
    return axis ? axis[1] : [dataset[field]];
  };
  const fileCounts = varying('files').map((f) => (typeof f === 'number' && f > 0 ? f : 1));
  const transfers = fileCounts.reduce((a, b) => a + b, 0) * (cells / fileCounts.length) * repeat;
  if (transfers > limits.transfers) {
    issues.push({ path: ['dataset', 'files'], message: `the run would transfer ${transfers} files; the limit is ${limits.transfers} (${raise('transfers')})` });
  }
  const largest = Math.max(
    ...varying('size').map((s) => {
      const parsed = typeof s === 'string' || typeof s === 'number' ? parseSize(s) : undefined;
      return parsed && typeof parsed !== 'string' ? (parsed.kind === 'fixed' ? parsed.bytes : parsed.max) : 0;
    }),
  );
  const bytes = Math.max(...fileCounts) * largest;
  if (bytes > limits.bytes) {
    issues.push({ path: ['dataset', 'size'], message: `a dataset of ${Math.max(...fileCounts)} files up to ${largest} bytes is ${bytes} bytes; the limit is ${limits.bytes} (${raise('bytes')})` });
  }

  // The largest value a field takes in any cell: its own, or the largest of its matrix axis.
  const largestOf = (path: readonly string[], own: unknown, fallback: number): number => {
    const axis = axes.find(([key]) => {
      const p = axisPath(key);
      return Array.isArray(p) && p.length === path.length && p.every((s, i) => s === path[i]);
    });
    const values = axis ? axis[1] : [own];
    return Math.max(...values.map((v) => (typeof v === 'number' && v > 0 ? v : fallback)));
  };
  const hosts = isRecord(raw.hosts) ? raw.hosts : {};
  const hostCount = Object.entries(hosts).reduce((n, [name, spec]) => n + largestOf(['hosts', name, 'count'], isRecord(spec) ? spec.count : undefined, 1), 0);
  if (hostCount > limits.hosts) {
    issues.push({ path: ['hosts'], message: `${hostCount} sshd hosts (replicas included) in a cell; the limit is ${limits.hosts} (${raise('hosts')})` });
  }
  const transfer = isRecord(raw.transfer) ? raw.transfer : undefined;
  const pipeline = isRecord(raw.pipeline) ? raw.pipeline : undefined;
  const atOnce = Math.max(transfer ? largestOf(['transfer', 'concurrency'], transfer.concurrency, 10) : 0, pipeline ? largestOf(['pipeline', 'ranks'], pipeline.ranks, 4) : 0);
  if (atOnce > limits.concurrency) {
    issues.push({ path: [transfer ? 'transfer' : 'pipeline', transfer ? 'concurrency' : 'ranks'], message: `${atOnce} ${transfer ? 'transfers' : 'ranks'} at once, each a process tree on this machine; the limit is ${limits.concurrency} (${raise('concurrency')})` });
  }
  return issues;
}
