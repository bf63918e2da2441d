import * as z from 'zod';
import { explained, refusedIfText } from '../util/explained.js';

/** Byte sizes as people write them: `1MiB`, `100KB`, `512`, and log-uniform ranges `1KiB..10MiB`. */

const UNITS: Record<string, number> = {
  '': 1, B: 1,
  KB: 1e3, MB: 1e6, GB: 1e9,
  KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3,
  K: 1024, M: 1024 ** 2, G: 1024 ** 3,
};

export type SizeSpec = { kind: 'fixed'; bytes: number } | { kind: 'range'; min: number; max: number };

/** Parses one size; returns an error message instead of throwing so zod can attach the YAML path. */
export function parseBytes(text: string | number): number | string {
  if (typeof text === 'number') {
    return Number.isInteger(text) && text >= 0 ? text : `size must be a whole number of bytes, got ${text}`;
  }
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$/.exec(text);
  const unit = m ? UNITS[m[2]!.toUpperCase()] : undefined;
  if (!m || unit === undefined) {
    return `"${text}" is not a size (use e.g. 512, 100KB, 1MiB, 2GiB)`;
  }
  return Math.round(Number(m[1]) * unit);
}

export function parseSize(text: string | number): SizeSpec | string {
  if (typeof text === 'string' && text.includes('..')) {
    const [lo, hi, ...rest] = text.split('..');
    if (rest.length > 0) return `"${text}" has more than one "..": use MIN..MAX`;
    const min = parseBytes(lo!);
    const max = parseBytes(hi!);
    if (typeof min === 'string') return min;
    if (typeof max === 'string') return max;
    if (min < 1 || max < min) return `range "${text}" needs 1 <= MIN <= MAX`;
    return { kind: 'range', min, max };
  }
  const bytes = parseBytes(text);
  return typeof bytes === 'string' ? bytes : { kind: 'fixed', bytes };
}

/** A dataset's `size`: one size, or a range. */
export const sizeSchema = explained(z.union([z.string(), z.number()]), (v) => refusedIfText(parseSize(v)));
