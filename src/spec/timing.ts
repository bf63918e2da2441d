import * as z from 'zod';
import { parseDuration } from '../util/duration.js';
import { explained, refuse, refusedIfText, type Refusal } from '../util/explained.js';

/** A fault's `for` (and a compute step's sleep): a duration such as 2s. */
export const durationSchema = explained(z.string({ error: 'expected a duration such as 2s' }), (v) => refusedIfText(parseDuration(v)));

/** When a fault starts: a time after the cell's transfers began, or once a share of them has started. */
export type FaultAt = { ms: number } | { fraction: number };

export const atSchema = explained(z.string({ error: 'expected a time such as 2s or a share of transfers such as "30%"' }), (v): FaultAt | Refusal => {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(v);
  if (pct) {
    const fraction = Number(pct[1]) / 100;
    return fraction > 1 ? refuse(`${v} of the transfers never start: at most 100%`) : { fraction };
  }
  const ms = parseDuration(v);
  return typeof ms === 'string' ? refuse(`${ms}, or a share of transfers started such as "30%"`) : { ms };
});
