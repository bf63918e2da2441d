import { z } from 'zod';

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m)$/;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000 } as const;

/** "500ms", "2s", "1.5m" in milliseconds, or an error message. */
export function parseDuration(text: string): number | string {
  const m = DURATION.exec(text);
  if (!m) return `"${text.slice(0, 40)}" is not a duration such as 500ms, 2s or 1m`;
  return Math.round(Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS]);
}

export const durationSchema = z.string({ error: 'expected a duration such as 2s' }).transform((v, ctx) => {
  const ms = parseDuration(v);
  if (typeof ms === 'string') {
    ctx.addIssue({ code: 'custom', message: ms });
    return z.NEVER;
  }
  return ms;
});

/** When a fault starts: a time after the cell's transfers began, or once a share of them has started. */
export type FaultAt = { ms: number } | { fraction: number };

export const atSchema = z.string({ error: 'expected a time such as 2s or a share of transfers such as "30%"' }).transform((v, ctx): FaultAt => {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(v);
  if (pct) {
    const fraction = Number(pct[1]) / 100;
    if (fraction > 1) {
      ctx.addIssue({ code: 'custom', message: `${v} of the transfers never start: at most 100%` });
      return z.NEVER;
    }
    return { fraction };
  }
  const ms = parseDuration(v);
  if (typeof ms === 'string') {
    ctx.addIssue({ code: 'custom', message: `${ms}, or a share of transfers started such as "30%"` });
    return z.NEVER;
  }
  return { ms };
});
