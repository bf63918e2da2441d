import { z } from 'zod';
import { explained, refuse } from '../util/explained.js';
import type { FaultKind } from './fault-kind.js';
import { applied, controlOf } from './fault-kind.js';

const RATE = /^(\d+(?:\.\d+)?)(kbit|mbit|gbit)$/;
const BITS = { kbit: 1e3, mbit: 1e6, gbit: 1e9 } as const;

/**
 * What nftables' `limit rate` takes, in bytes per second: 0 is refused ("Invalid argument") and
 * above about 2^34 "Value too large" (nft 1.0.6); 1 kbit to 100 gbit lie well inside.
 */
const RATE_RANGE = { min: 1e3 / 8, max: 100e9 / 8 } as const;

const rateSchema = explained(z.string({ error: 'expected a rate such as 20mbit' }), (v) => {
  const m = RATE.exec(v);
  if (!m) return refuse(`"${v.slice(0, 40)}" is not a rate such as 500kbit, 20mbit or 1gbit`);
  const bytes = (Number(m[1]) * BITS[m[2] as keyof typeof BITS]) / 8;
  return bytes < RATE_RANGE.min || bytes > RATE_RANGE.max ? refuse(`${v} is outside what nftables can police: from 1kbit to 100gbit`) : bytes;
});

/**
 * A slow link to the host: its traffic each way policed to `rate` (nftables drops what exceeds
 * it, and TCP backs off), root only. This kernel has no netem, so no delay is emulated.
 */
export const bandwidth: FaultKind = {
  acts: 'host',
  needsRoot: 'it adds an nftables table',
  // A container's published port is reached through the engine's NAT, which these rules do not see.
  backends: ['local'],
  fields: {
    rate: rateSchema,
    delay: z.unknown().refine((v) => v === undefined, 'delay needs the netem qdisc, which this kernel lacks; only the rate is emulated').optional(),
  },
  summary: 'traffic to and from the host policed to `rate` each way (nftables, root only; no delay)',
  async apply(spec, target) {
    const bytes = spec.rate as number;
    const undo = await controlOf(target).filterTraffic({ rateBytesPerS: bytes });
    return applied(`traffic policed to ${Math.round((bytes * 8) / 1e5) / 10} Mbit/s each way`, undo);
  },
};
