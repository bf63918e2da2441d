import * as z from 'zod';
import { explained, refusedIfText } from '../util/explained.js';

/** Metrics a threshold can name; each is computed per matrix cell by report/summary.ts. */
export const THRESHOLD_METRICS = [
  'loss_rate', 'lost', 'failure_rate', 'silent_drops', 'failed', 'throughput_mbps', 'files_per_s', 'p50_ms', 'p95_ms', 'p99_ms',
] as const;
export type ThresholdMetric = (typeof THRESHOLD_METRICS)[number];

export type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!=';
export interface Condition {
  op: Comparator;
  value: number;
  text: string;
}

const CONDITION = /^\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$/;

export function parseCondition(text: string | number): Condition | string {
  const src = typeof text === 'number' ? `== ${text}` : text;
  const m = CONDITION.exec(src);
  if (!m) return `"${src}" is not a condition: use an operator and a number, e.g. "<= 0.05"`;
  return { op: m[1] as Comparator, value: Number(m[2]), text: `${m[1]} ${m[2]}` };
}

export function holds(condition: Condition, actual: number): boolean {
  switch (condition.op) {
    case '<': return actual < condition.value;
    case '<=': return actual <= condition.value;
    case '>': return actual > condition.value;
    case '>=': return actual >= condition.value;
    case '==': return actual === condition.value;
    case '!=': return actual !== condition.value;
  }
}

const conditionSchema = explained(z.union([z.string(), z.number()]), (v) => refusedIfText(parseCondition(v)));

const metricSchema = z.enum(THRESHOLD_METRICS, { error: `must be one of ${THRESHOLD_METRICS.join(', ')}` });
const scalar = z.union([z.string(), z.number(), z.boolean()]);

/**
 * A threshold is checked in every matrix cell it applies to (`when` narrows the cells by their
 * matrix values: a value, a list of values, or a condition string such as "<= 10"), or once over
 * all cells with `scope: overall`. A cell's value is its worst repeat, so a threshold holds only
 * if it held every time.
 */
const entrySchema = z.strictObject({
  metric: metricSchema,
  condition: conditionSchema,
  scope: z.enum(['cell', 'overall']).default('cell'),
  when: z.record(z.string(), z.union([scalar, z.array(scalar)])).optional(),
});

export type Threshold = z.infer<typeof entrySchema>;

export const thresholdsSchema = z
  .union([z.array(entrySchema), z.partialRecord(metricSchema, conditionSchema)])
  .default([])
  .transform((value): Threshold[] =>
    Array.isArray(value)
      ? value
      : Object.entries(value).map(([metric, condition]) => ({
          metric: metric as ThresholdMetric,
          condition: condition as Condition,
          scope: 'cell' as const,
        })),
  );

/** Whether a cell with these matrix values is one a threshold's `when` names (own keys only). */
export function matchesWhen(values: Record<string, unknown>, when: Threshold['when']): boolean {
  if (!when) return true;
  return Object.entries(when).every(([key, expected]) => {
    if (!Object.hasOwn(values, key)) return false;
    const actual = values[key];
    if (Array.isArray(expected)) return expected.some((e) => String(e) === String(actual));
    if (typeof expected === 'string') {
      const cond = parseCondition(expected);
      if (typeof cond !== 'string' && typeof actual === 'number') return holds(cond, actual);
    }
    return String(expected) === String(actual);
  });
}
