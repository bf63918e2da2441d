import * as z from 'zod';
import { explained, refuse } from '../util/explained.js';

const RATE = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)$/;
const BITS = { kbit: 1e3, mbit: 1e6, gbit: 1e9 } as const;

/**
 * What nftables' `limit rate` takes, in bytes per second: 0 is refused ("Invalid argument") and
 * above about 2^34 "Value too large" (nft 1.0.6); 1 kbit to 100 gbit lie well inside. A link's
 * relay takes the same range, so a rate means the same in a fault and on a link.
 */
const RATE_RANGE = { min: 1e3 / 8, max: 100e9 / 8 } as const;

/** A rate such as 20mbit, as bytes per second. */
export const rateSchema = explained(z.string({ error: 'expected a rate such as 20mbit' }), (v) => {
  const m = RATE.exec(v);
  if (!m) return refuse(`"${v.slice(0, 40)}" is not a rate such as 500kbit, 20mbit or 1gbit`);
  const bytes = (Number(m[1]) * BITS[m[2] as keyof typeof BITS]) / 8;
  return bytes < RATE_RANGE.min || bytes > RATE_RANGE.max ? refuse(`${v} is outside 1kbit to 100gbit`) : bytes;
});
